# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cars_global_optspecs
    string join \n store= h/help V/version
end

function __fish_cars_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cars_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cars_using_subcommand
    set -l cmd (__fish_cars_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cars -n "__fish_cars_needs_command" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cars -n "__fish_cars_needs_command" -s V -l version -d 'Print version'
complete -c cars -n "__fish_cars_needs_command" -f -a "analyze" -d 'Find, group, rank and explain the errors in a log'
complete -c cars -n "__fish_cars_needs_command" -f -a "session" -d 'Interactive debugging session over a log, a command or the latest session'
complete -c cars -n "__fish_cars_needs_command" -f -a "run" -d 'Run a command, stream its output, analyze it and record a session'
complete -c cars -n "__fish_cars_needs_command" -f -a "watch" -d 'Run the project\'s jobs in a live TUI; re-run on change; approve fixes with a key'
complete -c cars -n "__fish_cars_needs_command" -f -a "list" -d 'List the session\'s findings, or group them by category, severity or step'
complete -c cars -n "__fish_cars_needs_command" -f -a "show" -d 'Show a finding: its log excerpt and the source lines it points at'
complete -c cars -n "__fish_cars_needs_command" -f -a "explain" -d 'Explain a finding: what it means, the usual fix, how sure cars is'
complete -c cars -n "__fish_cars_needs_command" -f -a "diff" -d 'Show a patch\'s diff, origin, confidence and status'
complete -c cars -n "__fish_cars_needs_command" -f -a "label" -d 'Correct a finding\'s category (recorded for `cars learn train`)'
complete -c cars -n "__fish_cars_needs_command" -f -a "reject" -d 'Reject a proposed patch (recorded; it will not be applied)'
complete -c cars -n "__fish_cars_needs_command" -f -a "patch" -d 'Propose a fix diff for each finding of a session'
complete -c cars -n "__fish_cars_needs_command" -f -a "heal" -d 'Run a command and repair what breaks it, round after round, until it passes'
complete -c cars -n "__fish_cars_needs_command" -f -a "apply" -d 'Apply patches with a backup, validate them and commit them'
complete -c cars -n "__fish_cars_needs_command" -f -a "rollback" -d 'Undo an applied patch, byte for byte'
complete -c cars -n "__fish_cars_needs_command" -f -a "history" -d 'Show sessions, patches, decisions and outcomes, newest first'
complete -c cars -n "__fish_cars_needs_command" -f -a "stats" -d 'Success rates by category, rule and strategy; mean time to repair'
complete -c cars -n "__fish_cars_needs_command" -f -a "export" -d 'Write a report of a session: findings, patches, decisions, outcomes'
complete -c cars -n "__fish_cars_needs_command" -f -a "config" -d 'Show the effective settings and where each came from'
complete -c cars -n "__fish_cars_needs_command" -f -a "trust" -d 'Trust this project\'s own cars configuration (gates, jobs, rules, templates)'
complete -c cars -n "__fish_cars_needs_command" -f -a "flaky" -d 'Tests that failed and passed on the same code; reruns to tell flaky from real'
complete -c cars -n "__fish_cars_needs_command" -f -a "learn" -d 'What cars learned from outcomes: success rates; reset, export, import'
complete -c cars -n "__fish_cars_needs_command" -f -a "rules" -d 'List, check and test the error rules'
complete -c cars -n "__fish_cars_needs_command" -f -a "serve" -d 'Serve the REST API, /metrics, a status page and webhooks for teams and CI'
complete -c cars -n "__fish_cars_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c cars -n "__fish_cars_needs_command" -f -a "worker" -d 'Handle jobs from a Redis stream: analyze logs, heal projects, as one of many workers'
complete -c cars -n "__fish_cars_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand analyze" -s f -l format -d 'Output format [default: table on a terminal, text otherwise]' -r -f -a "table\t'Findings table with a summary (default on a terminal)'
json\t'The cars/analysis/v1 JSON document'
markdown\t'Markdown for PR comments and job summaries'
text\t'Plain text, one paragraph per finding (default when piped)'
sarif\t'SARIF 2.1.0 for GitHub code scanning'
github\t'GitHub Actions ::error annotations'"
complete -c cars -n "__fish_cars_using_subcommand analyze" -l baseline -d 'The log of a passing run of the same job: lines that also occur there are noise' -r
complete -c cars -n "__fish_cars_using_subcommand analyze" -l min-confidence -d 'Only report findings with at least this confidence (0 to 1)' -r
complete -c cars -n "__fish_cars_using_subcommand analyze" -l category -d 'Only report these categories (comma-separated or repeated), e.g. test,type' -r
complete -c cars -n "__fish_cars_using_subcommand analyze" -l top -d 'Only report the N highest-ranked findings' -r
complete -c cars -n "__fish_cars_using_subcommand analyze" -l rules -d 'Extra rule files to load after the built-in, user and project rules' -r -F
complete -c cars -n "__fish_cars_using_subcommand analyze" -s o -l output -d 'Write the report to FILE (atomically) instead of stdout' -r -F
complete -c cars -n "__fish_cars_using_subcommand analyze" -l command -d 'The command that produced the log; `cars apply` re-runs it to validate a fix' -r
complete -c cars -n "__fish_cars_using_subcommand analyze" -l threads -d 'Threads for a large log: N-1 scan blocks while one analyzes (and a light one reads); the findings are the same as on one thread [default: the cores, at most 4, for a file over 8 MiB, else 1]' -r
complete -c cars -n "__fish_cars_using_subcommand analyze" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand analyze" -l no-save -d 'Do not record this analysis as a session in the store'
complete -c cars -n "__fish_cars_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cars -n "__fish_cars_using_subcommand session" -l run -d 'Run this command and analyze its output first' -r
complete -c cars -n "__fish_cars_using_subcommand session" -l command -d 'The command that produced LOG; `approve` re-runs it to validate a fix' -r
complete -c cars -n "__fish_cars_using_subcommand session" -l session -d 'Continue this session instead of the latest' -r
complete -c cars -n "__fish_cars_using_subcommand session" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand session" -l commit -d '`approve` commits each validated patch with git'
complete -c cars -n "__fish_cars_using_subcommand session" -l tui -d 'Open the log (or the latest session\'s log) in the watch screen instead'
complete -c cars -n "__fish_cars_using_subcommand session" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand run" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand run" -l no-baseline -d 'Do not compare with the last passing run of the same command (by default its log, kept in the store, is the baseline: lines it also had are not findings)'
complete -c cars -n "__fish_cars_using_subcommand run" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand watch" -l job -d 'Only this job (by name), e.g. test' -r
complete -c cars -n "__fish_cars_using_subcommand watch" -l log -d 'Show this log instead of running jobs' -r -F
complete -c cars -n "__fish_cars_using_subcommand watch" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand watch" -s f -l follow -d 'With --log: keep reading as the file grows (like tail -f)'
complete -c cars -n "__fish_cars_using_subcommand watch" -l commit -d 'Commit each approved, validated patch with git'
complete -c cars -n "__fish_cars_using_subcommand watch" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand list" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand list" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand list" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand show" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand show" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand show" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand explain" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand explain" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand explain" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand diff" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand diff" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand diff" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand label" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand label" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand label" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand reject" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand reject" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand reject" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand patch" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand patch" -s f -l format -d 'Output format [default: table, or diff with finding ids given]' -r -f -a "table\t'One row per patch, with its gate, then why other findings have none'
diff\t'The unified diffs only (`git apply` accepts them)'
json\t'Patches and reasons as JSON'"
complete -c cars -n "__fish_cars_using_subcommand patch" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand patch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cars -n "__fish_cars_using_subcommand heal" -l rounds -d 'At most this many rounds' -r
complete -c cars -n "__fish_cars_using_subcommand heal" -l time -d 'No new round after this long: 90, 90s, 10m, 1h' -r
complete -c cars -n "__fish_cars_using_subcommand heal" -l timeout -d 'Seconds each run of the command may take before its process group is killed' -r
complete -c cars -n "__fish_cars_using_subcommand heal" -l format -r -f -a "table\t''
json\t''"
complete -c cars -n "__fish_cars_using_subcommand heal" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand heal" -l approve -d 'Ask for every patch at the approve gate: y(es), n(o), d(iff), q(uit)'
complete -c cars -n "__fish_cars_using_subcommand heal" -l force -d 'With --approve, also offer the patches that need --force'
complete -c cars -n "__fish_cars_using_subcommand heal" -l commit -d 'Commit each kept patch with git'
complete -c cars -n "__fish_cars_using_subcommand heal" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand apply" -l validate -d 'Re-run this command after applying; roll back if it fails [default: the session\'s --command]' -r
complete -c cars -n "__fish_cars_using_subcommand apply" -l timeout -d 'Seconds the validation command may run' -r
complete -c cars -n "__fish_cars_using_subcommand apply" -l session -d 'The session to use [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand apply" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand apply" -l auto -d 'Apply every proposed patch at or above the auto gate (one per finding). A rename or import a compiler suggests in the log counts once one run of the validation command, before any write, prints it again'
complete -c cars -n "__fish_cars_using_subcommand apply" -l dry-run -d 'Show what would change and write nothing'
complete -c cars -n "__fish_cars_using_subcommand apply" -l no-validate -d 'Do not validate, even when the session has a command'
complete -c cars -n "__fish_cars_using_subcommand apply" -l commit -d 'Commit the patched files (only those) with git after validation'
complete -c cars -n "__fish_cars_using_subcommand apply" -l force -d 'Apply a patch below the approval gate (confidence 0.60-0.74 by default)'
complete -c cars -n "__fish_cars_using_subcommand apply" -l no-verify -d 'With --commit: skip the repository\'s pre-commit and commit-msg hooks, as `git commit --no-verify` does'
complete -c cars -n "__fish_cars_using_subcommand apply" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rollback" -l session -d 'The session the patch id belongs to [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand rollback" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand rollback" -l last -d 'Undo the most recently applied patch (any session)'
complete -c cars -n "__fish_cars_using_subcommand rollback" -l force -d 'Roll back even if the files changed after the apply (those changes are lost)'
complete -c cars -n "__fish_cars_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand history" -l session -d 'Only this session\'s events' -r
complete -c cars -n "__fish_cars_using_subcommand history" -l limit -d 'At most this many events' -r
complete -c cars -n "__fish_cars_using_subcommand history" -s f -l format -r -f -a "table\t''
json\t''"
complete -c cars -n "__fish_cars_using_subcommand history" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand history" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand stats" -s f -l format -r -f -a "table\t''
json\t''"
complete -c cars -n "__fish_cars_using_subcommand stats" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand stats" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand export" -s f -l format -d 'Output format' -r -f -a "markdown\t'GitHub-flavoured markdown: summary tables, findings, diffs, decisions, outcomes'
json\t'The report as JSON (schema cars/session/v1, see README.md)'
text\t'Plain text, lines of at most 100 characters, no colour'"
complete -c cars -n "__fish_cars_using_subcommand export" -s o -l output -d 'Write to FILE (replaced atomically) instead of stdout' -r -F
complete -c cars -n "__fish_cars_using_subcommand export" -l session -d 'The session to report [default: the latest]' -r
complete -c cars -n "__fish_cars_using_subcommand export" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cars -n "__fish_cars_using_subcommand config" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand config" -l defaults -d 'Print the built-in defaults (a commented config file) instead'
complete -c cars -n "__fish_cars_using_subcommand config" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand trust" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand trust" -l revoke -d 'Forget the trust given to the project'
complete -c cars -n "__fish_cars_using_subcommand trust" -l list -d 'List the trusted projects'
complete -c cars -n "__fish_cars_using_subcommand trust" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand flaky" -l rerun -d 'Rerun the command up to N times, stopping once every failing test has passed once (flaky) or the runs are spent (a real failure)' -r
complete -c cars -n "__fish_cars_using_subcommand flaky" -l timeout -d 'Seconds each run may take' -r
complete -c cars -n "__fish_cars_using_subcommand flaky" -l format -r -f -a "table\t''
json\t''"
complete -c cars -n "__fish_cars_using_subcommand flaky" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand flaky" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -f -a "stats" -d 'Success rates by rule, fix source and project, with counts'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -f -a "reset" -d 'Forget the outcomes (of one rule with --rule)'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -f -a "export" -d 'Write every outcome as JSON (schema cars/knowledge/v1)'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -f -a "train" -d 'Retrain the category classifier with your `cars label` corrections added'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -f -a "import" -d 'Add the outcomes of an export'
complete -c cars -n "__fish_cars_using_subcommand learn; and not __fish_seen_subcommand_from stats reset export train import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from stats" -l format -r -f -a "table\t''
json\t''"
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from stats" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from reset" -l rule -r
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from reset" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from export" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from train" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from train" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from import" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Success rates by rule, fix source and project, with counts'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Forget the outcomes (of one rule with --rule)'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write every outcome as JSON (schema cars/knowledge/v1)'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from help" -f -a "train" -d 'Retrain the category classifier with your `cars label` corrections added'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from help" -f -a "import" -d 'Add the outcomes of an export'
complete -c cars -n "__fish_cars_using_subcommand learn; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check suggest help" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check suggest help" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check suggest help" -f -a "list" -d 'List the rules in effect (built-in, user and project rules)'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check suggest help" -f -a "check" -d 'Validate a rule file: TOML, regexes, captures, and each rule\'s samples'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check suggest help" -f -a "suggest" -d 'The most frequent unknown errors of recorded sessions, clustered by template; --write drafts rules for them in .cars/patterns/suggested.toml'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check suggest help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l tool -d 'Only rules for this tool (e.g. rustc, pytest, tsc)' -r
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l category -d 'Only rules of this category' -r
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object per rule instead of a table'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from check" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from suggest" -l min -d 'Only clusters seen at least this often' -r
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from suggest" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from suggest" -l write -d 'Write draft rules (TOML with samples) and check them'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from suggest" -l json -d 'Print JSON instead of text'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from suggest" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the rules in effect (built-in, user and project rules)'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a rule file: TOML, regexes, captures, and each rule\'s samples'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "suggest" -d 'The most frequent unknown errors of recorded sessions, clustered by template; --write drafts rules for them in .cars/patterns/suggested.toml'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand serve" -l listen -d 'Address to listen on (port 0: any free port, printed on start)' -r
complete -c cars -n "__fish_cars_using_subcommand serve" -l redis -d 'Redis URL, for the queue figures in /metrics (redis://127.0.0.1:6379)' -r
complete -c cars -n "__fish_cars_using_subcommand serve" -l token-file -d 'Read the bearer token from this file [default: the CARS_TOKEN variable]' -r -F
complete -c cars -n "__fish_cars_using_subcommand serve" -l allow-root -d 'Projects must lie under this directory (repeatable)' -r -F
complete -c cars -n "__fish_cars_using_subcommand serve" -l webhook -d 'Post each repair outcome as JSON to this URL (repeatable)' -r
complete -c cars -n "__fish_cars_using_subcommand serve" -l slack-webhook -d 'Post each repair outcome to this Slack incoming webhook' -r
complete -c cars -n "__fish_cars_using_subcommand serve" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand serve" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand completions" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand completions" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand worker" -l redis -d 'Redis server URL (redis://[user:password@]host:port[/db])' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l name -d 'This worker\'s consumer name in the group: unique per worker process' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l group -d 'The consumer group the workers share' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l stream -d 'The job stream' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l results -d 'Where outcomes are published' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l results-maxlen -d 'Trim the results stream to about this many entries (XADD MAXLEN ~); 0 keeps all' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l status-stream -d 'Where the worker publishes its status (started, each job, stopped)' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l dead -d 'The dead-letter stream [default: the job stream + ":dead"]' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l claim-idle -d 'Reclaim an entry another worker left unacknowledged this long (90, 30s, 500ms, 2m)' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l max-deliveries -d 'Dead-letter an entry delivered more than this many times' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l allow-root -d 'Heal jobs may name projects under this directory (repeatable); none: no heal jobs' -r -F
complete -c cars -n "__fish_cars_using_subcommand worker" -l max-log-bytes -d 'Refuse a job whose log is larger than this many bytes' -r
complete -c cars -n "__fish_cars_using_subcommand worker" -l store -d 'Where sessions, patches and backups live [default: .git/cars in a git work tree, else a per-project directory in the user\'s data dir]' -r -F
complete -c cars -n "__fish_cars_using_subcommand worker" -l allow-validate -d 'Heal jobs may name a validation command to run in their project'
complete -c cars -n "__fish_cars_using_subcommand worker" -l keep-acked -d 'Keep acknowledged entries in the job stream (default: delete them, logs are big)'
complete -c cars -n "__fish_cars_using_subcommand worker" -s v -l verbose -d 'Print a line per job on stderr'
complete -c cars -n "__fish_cars_using_subcommand worker" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "analyze" -d 'Find, group, rank and explain the errors in a log'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "session" -d 'Interactive debugging session over a log, a command or the latest session'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "run" -d 'Run a command, stream its output, analyze it and record a session'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "watch" -d 'Run the project\'s jobs in a live TUI; re-run on change; approve fixes with a key'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "list" -d 'List the session\'s findings, or group them by category, severity or step'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "show" -d 'Show a finding: its log excerpt and the source lines it points at'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "explain" -d 'Explain a finding: what it means, the usual fix, how sure cars is'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "diff" -d 'Show a patch\'s diff, origin, confidence and status'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "label" -d 'Correct a finding\'s category (recorded for `cars learn train`)'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "reject" -d 'Reject a proposed patch (recorded; it will not be applied)'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "patch" -d 'Propose a fix diff for each finding of a session'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "heal" -d 'Run a command and repair what breaks it, round after round, until it passes'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "apply" -d 'Apply patches with a backup, validate them and commit them'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "rollback" -d 'Undo an applied patch, byte for byte'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "history" -d 'Show sessions, patches, decisions and outcomes, newest first'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "stats" -d 'Success rates by category, rule and strategy; mean time to repair'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "export" -d 'Write a report of a session: findings, patches, decisions, outcomes'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "config" -d 'Show the effective settings and where each came from'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "trust" -d 'Trust this project\'s own cars configuration (gates, jobs, rules, templates)'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "flaky" -d 'Tests that failed and passed on the same code; reruns to tell flaky from real'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "learn" -d 'What cars learned from outcomes: success rates; reset, export, import'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "rules" -d 'List, check and test the error rules'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "serve" -d 'Serve the REST API, /metrics, a status page and webhooks for teams and CI'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "completions" -d 'Print a shell completion script'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "worker" -d 'Handle jobs from a Redis stream: analyze logs, heal projects, as one of many workers'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze session run watch list show explain diff label reject patch heal apply rollback history stats export config trust flaky learn rules serve completions worker help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from learn" -f -a "stats" -d 'Success rates by rule, fix source and project, with counts'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from learn" -f -a "reset" -d 'Forget the outcomes (of one rule with --rule)'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from learn" -f -a "export" -d 'Write every outcome as JSON (schema cars/knowledge/v1)'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from learn" -f -a "train" -d 'Retrain the category classifier with your `cars label` corrections added'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from learn" -f -a "import" -d 'Add the outcomes of an export'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "list" -d 'List the rules in effect (built-in, user and project rules)'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "check" -d 'Validate a rule file: TOML, regexes, captures, and each rule\'s samples'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "suggest" -d 'The most frequent unknown errors of recorded sessions, clustered by template; --write drafts rules for them in .cars/patterns/suggested.toml'

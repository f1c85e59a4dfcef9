# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cars_global_optspecs
    string join \n h/help V/version
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

complete -c cars -n "__fish_cars_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cars -n "__fish_cars_needs_command" -s V -l version -d 'Print version'
complete -c cars -n "__fish_cars_needs_command" -f -a "analyze" -d 'Find, group, rank and explain the errors in a log'
complete -c cars -n "__fish_cars_needs_command" -f -a "rules" -d 'List, check and test the error rules'
complete -c cars -n "__fish_cars_needs_command" -f -a "completions" -d 'Print a shell completion script'
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
complete -c cars -n "__fish_cars_using_subcommand analyze" -l no-save -d 'Do not record this analysis as a session (sessions come with the store)'
complete -c cars -n "__fish_cars_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check help" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check help" -f -a "list" -d 'List the rules in effect (built-in, user and project rules)'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check help" -f -a "check" -d 'Validate a rule file: TOML, regexes, captures, and each rule\'s samples'
complete -c cars -n "__fish_cars_using_subcommand rules; and not __fish_seen_subcommand_from list check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l tool -d 'Only rules for this tool (e.g. rustc, pytest, tsc)' -r
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l category -d 'Only rules of this category' -r
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object per rule instead of a table'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the rules in effect (built-in, user and project rules)'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a rule file: TOML, regexes, captures, and each rule\'s samples'
complete -c cars -n "__fish_cars_using_subcommand rules; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand completions" -s h -l help -d 'Print help'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze rules completions help" -f -a "analyze" -d 'Find, group, rank and explain the errors in a log'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze rules completions help" -f -a "rules" -d 'List, check and test the error rules'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze rules completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c cars -n "__fish_cars_using_subcommand help; and not __fish_seen_subcommand_from analyze rules completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "list" -d 'List the rules in effect (built-in, user and project rules)'
complete -c cars -n "__fish_cars_using_subcommand help; and __fish_seen_subcommand_from rules" -f -a "check" -d 'Validate a rule file: TOML, regexes, captures, and each rule\'s samples'

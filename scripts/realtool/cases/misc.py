"""Shell, YAML, CI workflows, Dockerfiles, CSS, PHP, Python packaging and publishing."""
from _case import case, err

WF = ".github/workflows/ci.yml"
CASES = [
    # shellcheck
    case("shellcheck-unquoted", "shellcheck", "shellcheck build.sh", {"build.sh": """
        #!/bin/bash
        dir=$1
        rm -rf $dir/out
    """}, err("lint", "build.sh", "SC2086", at="rm -rf", fixable=True),
        fix={"build.sh": [("$dir/out", '"$dir"/out')]}),
    case("shellcheck-unused-var", "shellcheck", "shellcheck deploy.sh", {"deploy.sh": """
        #!/bin/sh
        target=prod
        echo "deploying"
    """}, err("lint", "deploy.sh", "SC2034", at="target=prod")),
    case("shellcheck-cd-no-exit", "shellcheck", "shellcheck -f gcc ci.sh", {"ci.sh": """
        #!/bin/bash
        cd build
        make
    """}, err("lint", "ci.sh", "SC2164", at="cd build", fixable=True)),
    case("shellcheck-parse-error", "shellcheck", "shellcheck run.sh", {"run.sh": """
        #!/bin/bash
        if [ -f x ]; then
          echo yes
    """}, err("syntax", "run.sh", "SC1046", at="if [")),
    # bash itself
    case("bash-command-not-found", "bash", "bash ci.sh", {"ci.sh": """
        #!/bin/bash
        set -e
        echo "checking"
        jq-cars-missing '.version' package.json
    """}, err("dependency", "ci.sh", "jq-cars-missing: command not found", at="jq-cars-missing")),
    case("bash-unbound-variable", "bash", "bash deploy.sh", {"deploy.sh": """
        #!/bin/bash
        set -euo pipefail
        echo "deploying to $DEPLOY_TARGET"
    """}, err("config", "deploy.sh", "DEPLOY_TARGET: unbound variable", at="DEPLOY_TARGET")),
    case("bash-not-executable", "bash", "./scripts/build.sh", {"scripts/build.sh": ("""
        #!/bin/bash
        echo build
    """, 0o644)}, err("permission", "scripts/build.sh", "Permission denied", fixable=True), needs=["bash"]),
    case("bash-timeout", "bash", "timeout --verbose 1 bash wait.sh", {"wait.sh": """
        #!/bin/bash
        echo "waiting for the service to write ./ready"
        until [ -f ready ]; do sleep 0.2; done
    """}, err("timeout", None, "sending signal TERM"), needs=["timeout", "bash"]),
    case("bash-syntax-error", "bash", "bash ci.sh", {"ci.sh": """
        #!/bin/bash
        for f in *.txt; do
          echo "$f"
        done
        fi
    """}, err("syntax", "ci.sh", "syntax error near unexpected token `fi'", at="fi")),
    case("bash-custom-failure", "bash", "bash check.sh", {"check.sh": """
        #!/bin/bash
        echo "verifying release state"
        echo "FATAL: inconsistent state between stages" >&2
        exit 3
    """}, err("unknown", None, "FATAL: inconsistent state")),
    # yamllint
    case("yamllint-syntax", "yamllint", "yamllint -f parsable config.yml", {"config.yml": """
        server:
          port: 8080
         host: localhost
    """}, err("syntax", "config.yml", "syntax error", at="host:")),
    case("yamllint-trailing-spaces", "yamllint", "yamllint config.yml", {"config.yml": "---\nname: app   \nport: 1\n"},
         err("lint", "config.yml", "trailing spaces", line=2, fixable=True),
         fix={"config.yml": [("app   ", "app")]}),
    case("yamllint-duplicate-key", "yamllint", "yamllint -f parsable config.yml", {"config.yml": """
        ---
        name: app
        port: 1
        name: other
    """}, err("lint", "config.yml", "duplication of key \"name\"", at="name: other")),
    case("yamllint-indentation", "yamllint", "yamllint config.yml", {"config.yml": """
        ---
        list:
            - a
            - b
        map:
          key: value
    """}, err("lint", "config.yml", "wrong indentation", at="key: value")),
    # actionlint
    case("actionlint-unknown-key", "actionlint", "actionlint -no-color .github/workflows/ci.yml", {WF: """
        name: ci
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            step:
              - run: echo hi
    """}, err("config", WF, "unexpected key \"step\"", at="step:", fixable=True)),
    case("actionlint-bad-expression", "actionlint", "actionlint -no-color .github/workflows/ci.yml", {WF: """
        name: ci
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: echo "${{ github.evnt.name }}"
    """}, err("config", WF, "property \"evnt\" is not defined", at="evnt", fixable=True)),
    case("actionlint-undefined-needs", "actionlint", "actionlint -no-color .github/workflows/ci.yml", {WF: """
        name: ci
        on: push
        jobs:
          deploy:
            needs: biuld
            runs-on: ubuntu-latest
            steps:
              - run: echo deploy
    """}, err("config", WF, "needs job \"biuld\" which does not exist", at="deploy:")),
    # A job that needs a misspelled name of a job the workflow has.
    case("actionlint-needs-typo", "actionlint", "actionlint -no-color .github/workflows/ci.yml", {WF: """
        name: ci
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: echo build
          deploy:
            needs: [biuld]
            runs-on: ubuntu-latest
            steps:
              - run: echo deploy
    """}, err("config", WF, "needs job \"biuld\" which does not exist", at="deploy:", fixable=True),
      fix={WF: [("[biuld]", "[build]")]}),
    case("actionlint-shellcheck", "actionlint", "actionlint -no-color .github/workflows/ci.yml", {WF: """
        name: ci
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: rm -rf $DIR/out
    """}, err("lint", WF, "SC2086", at="rm -rf"), needs=["actionlint", "shellcheck"]),
    # hadolint
    case("hadolint-pin-versions", "hadolint", "hadolint Dockerfile", {"Dockerfile": """
        FROM debian:12
        RUN apt-get update && apt-get install -y curl
        USER nobody
    """}, [err("lint", "Dockerfile", "DL3008", at="apt-get install"),
           err("lint", "Dockerfile", "DL3015", at="apt-get install")]),
    case("hadolint-last-user-root", "hadolint", "hadolint Dockerfile", {"Dockerfile": """
        FROM debian:12.5
        USER root
        CMD ["sh"]
    """}, err("security", "Dockerfile", "DL3002", at="USER root")),
    case("hadolint-cmd-json", "hadolint", "hadolint Dockerfile", {"Dockerfile": """
        FROM alpine:3.19
        USER nobody
        CMD sh -c "echo hi"
    """}, err("lint", "Dockerfile", "DL3025", at="CMD", fixable=True)),
    case("hadolint-parse-error", "hadolint", "hadolint Dockerfile", {"Dockerfile": """
        FROM alpine:3.19
        RUNN echo hi
    """}, err("syntax", "Dockerfile", "missing whitespace", at="RUNN")),
    # stylelint
    case("stylelint-invalid-hex", "stylelint", "stylelint 'src/**/*.css'", {
        ".stylelintrc.json": '{ "rules": { "color-no-invalid-hex": true, "declaration-block-no-duplicate-properties": true } }',
        "src/app.css": """
        a {
          color: #ggg;
        }
    """}, err("lint", "src/app.css", "Invalid hex color \"#ggg\"", at="#ggg")),
    case("stylelint-duplicate-property", "stylelint", "stylelint 'src/**/*.css'", {
        ".stylelintrc.json": '{ "rules": { "declaration-block-no-duplicate-properties": true } }',
        "src/app.css": """
        .box {
          color: red;
          color: blue;
        }
    """}, err("lint", "src/app.css", "Duplicate property \"color\"", at="color: red", fixable=True)),
    case("stylelint-syntax-error", "stylelint", "stylelint 'src/**/*.css'", {
        ".stylelintrc.json": '{ "rules": { "color-no-invalid-hex": true } }',
        "src/app.css": """
        .box {
          color: red;
    """}, err("syntax", "src/app.css", "Unclosed block", at=".box")),
    # php
    case("php-lint-syntax", "php", "php -l index.php", {"index.php": """
        <?php
        function greet($name) {
            echo "hi " . $name
        }
    """}, err("syntax", "index.php", "syntax error", at="}")),
    case("php-undefined-function", "php", "php index.php", {"index.php": """
        <?php
        function total(array $xs): int { return array_sum($xs); }
        echo totl([1, 2]);
    """}, err("type", "index.php", "Call to undefined function totl()", at="totl(", fixable=True),
        fix={"index.php": [("totl(", "total(")]}),
    case("php-type-error", "php", "php index.php", {"index.php": """
        <?php
        declare(strict_types=1);
        function double(int $x): int { return $x * 2; }
        echo double("3");
    """}, err("type", "index.php", "must be of type int, string given", at='double("3")')),
    case("phpcs-psr12", "phpcs", "phpcs --standard=PSR12 --report=full src", {"src/Greeter.php": """
        <?php

        namespace App;

        class Greeter {
            public function greet($name) { return "hi " . $name; }
        }
    """}, err("lint", "src/Greeter.php", "Opening brace of a class must be on the line after",
              at="class Greeter", fixable=True)),
    case("phpcs-emacs-report", "phpcs", "phpcs --standard=PSR12 --report=emacs src", {"src/util.php": """
        <?php

        function f($x){
            return $x;
        }
    """}, err("lint", "src/util.php", "Opening brace should be on a new line", at="function f", fixable=True)),
    # publishing
    case("twine-check-bad-readme", "twine", "twine check dist/*", {
        "pyproject.toml": """
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "cars-realtool-demo"
        version = "0.1.0"
        readme = {file = "README.rst", content-type = "text/x-rst"}
    """, "README.rst": """
        Demo
        ====

        .. code-block:: python
           :bogus-option: yes

           print("hi")
    """, "cars_realtool_demo/__init__.py": ""},
        err("deployment", "README.rst", "long_description", line=4),
        setup="python3 -m build --sdist --no-isolation . >/dev/null 2>&1", needs=["twine"],
        fix_check="python3 -m build --sdist --no-isolation . && twine check dist/*"),
]

"""JavaScript and TypeScript: tsc, eslint, prettier, jest, mocha, node, npm."""
import json
from _case import case, err

TSC = "tsc --noEmit --pretty false"
ESLINT_CFG = """
    export default [
      {
        files: ["**/*.js"],
        languageOptions: {
          ecmaVersion: 2022,
          sourceType: "module",
          globals: { console: "readonly", process: "readonly" },
        },
        rules: {
          "no-unused-vars": "error",
          "no-undef": "error",
          eqeqeq: "error",
          "prefer-const": "error",
          "no-var": "error",
          "no-eval": "error",
          "no-unreachable": "error",
        },
      },
    ];
"""
PKG = lambda **kw: json.dumps(dict({"name": "realtool-case", "version": "1.0.0", "private": True}, **kw), indent=2)


def ts(name, src, errors, cmd=None, fix=None, extra=None, **kw):
    files = {"src/index.ts": src}
    files.update(extra or {})
    return case(name, "tsc", cmd or TSC + " src/index.ts", files, errors,
                fix=fix and {"src/index.ts": fix}, needs=["tsc"], **kw)


def es(name, src, errors, cmd="eslint src", fix=None, path="src/app.js", **kw):
    return case(name, "eslint", cmd, {"eslint.config.mjs": ESLINT_CFG, path: src}, errors,
                fix=fix and {path: fix}, needs=["eslint"], **kw)


I = "src/index.ts"
E = "src/app.js"
CASES = [
    ts("tsc-ts2322-assign", """
        let count: number = "three";
        console.log(count);
    """, err("type", I, "TS2322", at='"three"')),
    ts("tsc-ts2339-property", """
        interface User { name: string }
        const u: User = { name: "ann" };
        console.log(u.email);
    """, err("type", I, "Property 'email' does not exist on type 'User'", at="u.email")),
    ts("tsc-ts2551-did-you-mean", """
        const items = [1, 2, 3];
        console.log(items.lenght);
    """, err("type", I, "Did you mean 'length'?", at="lenght", fixable=True), fix=[("lenght", "length")]),
    ts("tsc-ts2304-cannot-find-name", """
        export function area(r: number): number {
            return PI * r * r;
        }
    """, err("type", I, "Cannot find name 'PI'", at="PI *")),
    ts("tsc-ts2345-argument", """
        function greet(name: string): string {
            return "hi " + name;
        }
        greet(42);
    """, err("type", I, "TS2345", at="greet(42)")),
    ts("tsc-ts1005-syntax", """
        const values = [1, 2, 3;
        console.log(values);
    """, err("syntax", I, "TS1005", at="const values")),
    ts("tsc-ts2307-missing-module", """
        import { parse } from "yaml-cars-missing";
        console.log(parse("a: 1"));
    """, err("dependency", I, "Cannot find module 'yaml-cars-missing'", at="import { parse }")),
    ts("tsc-ts6133-unused-local", """
        export function f(): number {
            const unused = 1;
            return 2;
        }
    """, err("lint", I, "TS6133", at="const unused", fixable=True), cmd=TSC + " --noUnusedLocals src/index.ts",
       fix=[("    const unused = 1;\n", "")]),
    ts("tsc-ts5023-unknown-option", """
        export const x: number = 1;
    """, err("config", "tsconfig.json", "Unknown compiler option 'strictt'", at="strictt"),
       cmd="tsc -p tsconfig.json --pretty false",
       extra={"tsconfig.json": """
        {
          "compilerOptions": {
            "strictt": true,
            "noEmit": true
          },
          "include": ["src"]
        }
       """}),
    ts("tsc-pretty-multi", """
        const n: number = "1";
        const s: string = 2;
        console.log(n, s.toUpperCase(), missing);
    """, [err("type", I, "Type 'string' is not assignable to type 'number'", at='const n'),
          err("type", I, "Type 'number' is not assignable to type 'string'", at="const s"),
          err("type", I, "Cannot find name 'missing'", at="missing")],
       cmd="tsc --noEmit --pretty true src/index.ts"),
    ts("tsc-project-strict-null", """
        export function len(s: string | undefined): number {
            return s.length;
        }
    """, err("type", I, "'s' is possibly 'undefined'", at="s.length"),
       cmd="tsc -p . --pretty false",
       extra={"tsconfig.json": '{ "compilerOptions": { "strict": true, "noEmit": true }, "include": ["src"] }'}),
    # eslint, stylish
    es("eslint-no-unused-vars", """
        const unused = 1;
        export const used = 2;
    """, err("lint", E, "'unused' is assigned a value but never used", at="const unused", fixable=True),
       fix=[("const unused = 1;\n", "")]),
    es("eslint-no-undef", """
        export function f() {
          return undefinedThing + 1;
        }
    """, err("lint", E, "'undefinedThing' is not defined", at="undefinedThing")),
    es("eslint-eqeqeq", """
        export function same(a, b) {
          return a == b;
        }
    """, err("lint", E, "Expected '===' and instead saw '=='", at="a == b", fixable=True),
       fix=[("a == b", "a === b")]),
    es("eslint-prefer-const-multi", """
        export function f() {
          let total = 1;
          var legacy = 2;
          return total + legacy;
        }
    """, [err("lint", E, "'total' is never reassigned. Use 'const' instead", at="let total", fixable=True),
          err("lint", E, "Unexpected var, use let or const instead", at="var legacy", fixable=True)]),
    es("eslint-no-eval", """
        export function run(code) {
          return eval(code);
        }
    """, err("security", E, "can be harmful", at="eval(code)")),
    es("eslint-parse-error", """
        export function f( {
          return 1;
        }
    """, err("syntax", E, "Parsing error", at="return 1")),
    es("eslint-json-format", """
        export function f() {
          return 1;
          console.log("never");
        }
    """, err("lint", E, "Unreachable code", at="console.log"), cmd="eslint -f json src"),
    es("eslint-two-files", """
        export const a = b;
    """, [err("lint", E, "'b' is not defined", at="= b"),
          err("lint", "src/lib/util.js", "'x' is assigned a value but never used", line=1, fixable=True)],
       setup="mkdir -p src/lib && printf 'let x = 1;\\nexport default 2;\\n' > src/lib/util.js",
       keep=["src/lib/util.js"]),
    # prettier
    case("prettier-check", "prettier", "prettier --check src", {"src/app.js": """
        const a = {b:1,c:2}
        export default a
    """}, err("lint", "src/app.js", "Code style issues found", fixable=True), fix_check="prettier --check src",
       fix={"src/app.js": [(None, "const a = { b: 1, c: 2 };\nexport default a;\n")]}),
    case("prettier-check-css-md", "prettier", "prettier --check .", {"styles.css": "a{color:red}\n",
         "README.md": "#   Title\n\n* item\n"},
         [err("lint", "styles.css", "styles.css", fixable=True), err("lint", "README.md", "README.md", fixable=True)]),
    case("prettier-syntax-error", "prettier", "prettier --check src", {"src/app.js": """
        export const x = {;
    """}, err("syntax", "src/app.js", "SyntaxError", line=1)),
]

JEST = "jest --ci"


def js_test(name, tool, cmd, files, errors, **kw):
    files = dict(files)
    files.setdefault("package.json", PKG())
    kw.setdefault("needs", [tool])
    return case(name, tool, cmd, files, errors, **kw)


CASES += [
    js_test("jest-tobe", "jest", JEST, {"sum.js": "module.exports = (a, b) => a - b;\n", "sum.test.js": """
        const sum = require("./sum");

        test("adds 1 + 2 to equal 3", () => {
          expect(sum(1, 2)).toBe(3);
        });
    """}, err("test", "sum.test.js", "Expected: 3", at="expect(sum")),
    js_test("jest-toequal-nested", "jest", JEST, {"user.js": """
        module.exports = (name) => ({ name, roles: ["user"] });
    """, "user.test.js": """
        const makeUser = require("./user");

        describe("makeUser", () => {
          describe("roles", () => {
            it("gives admins the admin role", () => {
              expect(makeUser("root")).toEqual({ name: "root", roles: ["admin"] });
            });
          });
        });
    """}, err("test", "user.test.js", "makeUser › roles › gives admins the admin role", at="expect(makeUser")),
    js_test("jest-thrown-typeerror", "jest", JEST, {"cfg.js": """
        module.exports = (cfg) => cfg.server.port;
    """, "cfg.test.js": """
        const port = require("./cfg");

        test("reads the port", () => {
          expect(port({})).toBe(80);
        });
    """}, err("test", "cfg.js", "TypeError: Cannot read properties of undefined", at="cfg.server.port")),
    js_test("jest-cannot-find-module", "jest", JEST, {"api.test.js": """
        const client = require("axios-cars-missing");

        test("gets", () => {
          expect(client).toBeDefined();
        });
    """}, err("dependency", "api.test.js", "Cannot find module 'axios-cars-missing'", at="require(")),
    js_test("jest-timeout", "jest", JEST, {"slow.test.js": """
        test("finishes", (done) => {
          setTimeout(done, 2000);
        }, 200);
    """}, err("timeout", "slow.test.js", "Exceeded timeout of 200 ms", at='test("finishes"')),
    js_test("jest-econnrefused", "jest", JEST, {"health.test.js": """
        const http = require("http");

        test("health endpoint answers", async () => {
          const status = await new Promise((resolve, reject) => {
            http.get("http://127.0.0.1:9/health", (r) => resolve(r.statusCode)).on("error", reject);
          });
          expect(status).toBe(200);
        });
    """}, err("network", "health.test.js", "ECONNREFUSED")),
    js_test("mocha-strict-equal", "mocha", "mocha", {"test/math.test.js": """
        const assert = require("assert");

        function mul(a, b) { return a + b; }

        describe("math", function () {
          describe("mul", function () {
            it("multiplies two numbers", function () {
              assert.strictEqual(mul(3, 4), 12);
            });
          });
        });
    """}, err("test", "test/math.test.js", "multiplies two numbers", at="assert.strictEqual")),
    js_test("mocha-deep-equal", "mocha", "mocha", {"test/list.test.js": """
        const assert = require("assert");

        describe("list", function () {
          it("sorts numbers", function () {
            assert.deepStrictEqual([3, 1, 2].sort(), [1, 2, 4]);
          });
        });
    """}, err("test", "test/list.test.js", "Expected values to be strictly deep-equal", at="assert.deepStrictEqual")),
    js_test("mocha-timeout", "mocha", "mocha --timeout 100", {"test/slow.test.js": """
        describe("worker", function () {
          it("finishes", function (done) {
            setTimeout(done, 1000);
          });
        });
    """}, err("timeout", "test/slow.test.js", "Timeout of 100ms exceeded")),
    js_test("mocha-missing-module", "mocha", "mocha", {"test/db.test.js": """
        const pg = require("pg-cars-missing");

        describe("db", function () {
          it("connects", function () {
            pg.connect();
          });
        });
    """}, err("dependency", "test/db.test.js", "Cannot find module 'pg-cars-missing'", at="require(")),
    # node runtime
    js_test("node-typeerror", "node", "node index.js", {"index.js": """
        const config = {};
        console.log(config.server.port);
    """}, err("type", "index.js", "TypeError: Cannot read properties of undefined (reading 'port')", at="config.server")),
    js_test("node-referenceerror", "node", "node index.js", {"index.js": """
        function total(items) {
          return itms.reduce((a, b) => a + b, 0);
        }
        console.log(total([1, 2]));
    """}, err("type", "index.js", "ReferenceError: itms is not defined", at="itms.reduce", fixable=True),
       fix={"index.js": [("itms.reduce", "items.reduce")]}),
    js_test("node-syntaxerror", "node", "node index.js", {"index.js": """
        const a = {
          b: 1,,
        };
        console.log(a);
    """}, err("syntax", "index.js", "SyntaxError: Unexpected token ','", at="b: 1,,")),
    js_test("node-cannot-find-module", "node", "node index.js", {"index.js": """
        const express = require("express-cars-missing");
        express();
    """}, err("dependency", "index.js", "Cannot find module 'express-cars-missing'", at="require(")),
    js_test("node-stack-overflow", "node", "node index.js", {"index.js": """
        function down(n) {
          return down(n + 1) + 1;
        }
        down(0);
    """}, err("resource", "index.js", "Maximum call stack size exceeded", at="return down")),
    js_test("node-unhandled-econnrefused", "node", "node index.js", {"index.js": """
        const net = require("net");
        const sock = net.connect(9, "127.0.0.1");
        sock.on("connect", () => sock.end());
    """}, err("network", None, "ECONNREFUSED")),
    js_test("node-eacces", "node", "setpriv --bounding-set=-dac_override,-dac_read_search node index.js", {"index.js": """
        const fs = require("fs");
        fs.writeFileSync("out.txt", "old");
        fs.chmodSync("out.txt", 0o444);
        fs.writeFileSync("out.txt", "new");
    """}, err("permission", "index.js", "EACCES: permission denied", at='"new"'), needs=["setpriv", "node"]),
    js_test("node-test-runner", "node", "node --test", {"test/add.test.js": """
        const test = require("node:test");
        const assert = require("node:assert");

        test("adds", () => {
          assert.strictEqual(1 + 1, 3);
        });
    """}, err("test", "test/add.test.js", "Expected values to be strictly equal", at="assert.strictEqual")),
    # npm
    js_test("npm-missing-script", "npm", "npm run lint", {"package.json": PKG(scripts={"test": "node -e 0"})},
            err("config", "package.json", "Missing script: \"lint\"")),
    js_test("npm-test-fails", "npm", "npm test", {"package.json": PKG(scripts={"test": "node test.js"}), "test.js": """
        const assert = require("assert");
        assert.strictEqual("a".repeat(2), "aaa");
    """}, err("test", "test.js", "Expected values to be strictly equal", at="assert.strictEqual")),
    js_test("npm-bad-version", "npm", "npm install --dry-run --no-audit", {"package.json": PKG(dependencies={"left-pad": "^99.0.0"})},
            err("dependency", "package.json", "No matching version found for left-pad@^99.0.0")),
    js_test("npm-package-not-found", "npm", "npm install --dry-run --no-audit",
            {"package.json": PKG(dependencies={"cars-realtool-no-such-package-4f2a": "1.0.0"})},
            err("dependency", "package.json", "E404")),
    js_test("npm-json-parse", "npm", "npm install --dry-run --no-audit",
            {"package.json": '{\n  "name": "broken",\n  "version": "1.0.0",\n  "dependencies": {\n    "left-pad": "1.3.0",\n  }\n}\n'},
            err("syntax", "package.json", "EJSONPARSE")),
    js_test("npm-audit-endpoint-error", "npm", "npm audit --audit-level=high", {"package.json": PKG(dependencies={"lodash": "4.17.15"})},
            err("network", None, "audit endpoint returned an error"), setup="npm install --package-lock-only --no-audit >/dev/null 2>&1",
            keep=["package-lock.json"]),
]

"""Go, C and C++ (gcc, g++, ld), make, cmake, Java (javac, java, maven)."""
from _case import case, err

GOMOD = "module example.com/realtool\n\ngo 1.19\n"


def go(name, cmd, files, errors, tool="go", fix=None, **kw):
    files = dict(files)
    files.setdefault("go.mod", GOMOD)
    return case(name, tool, cmd, files, errors, fix=fix, needs=["go"], **kw)


def c(name, cmd, files, errors, tool="gcc", **kw):
    kw.setdefault("needs", [cmd.split()[0]])
    return case(name, tool, cmd, files, errors, **kw)


CASES = [
    go("go-build-undefined", "go build ./...", {"main.go": """
        package main

        import "fmt"

        func main() {
        	fmt.Printn("hello")
        }
    """}, err("build", "main.go", "undefined: fmt.Printn", at="fmt.Printn", fixable=True),
       fix={"main.go": [("Printn", "Println")]}),
    go("go-build-unused-import", "go build ./...", {"main.go": """
        package main

        import (
        	"fmt"
        	"os"
        )

        func main() {
        	fmt.Println("hi")
        }
    """}, err("lint", "main.go", 'imported and not used: "os"', at='"os"', fixable=True),
       fix={"main.go": [('\t"os"\n', "")]}),
    go("go-build-type-mismatch", "go build ./...", {"main.go": """
        package main

        import "fmt"

        func main() {
        	var n int = "five"
        	fmt.Println(n)
        }
    """}, err("type", "main.go", "cannot use \"five\"", at='"five"')),
    go("go-build-syntax", "go build ./...", {"main.go": """
        package main

        import "fmt"

        func main() {
        	fmt.Println("a"
        }
    """}, err("syntax", "main.go", "syntax error", at='fmt.Println("a"')),
    go("go-build-missing-module", "go build ./...", {"main.go": """
        package main

        import "github.com/carsrealtool/missing/pkg"

        func main() {
        	pkg.Run()
        }
    """}, err("dependency", "main.go", "no required module provides package", at="import")),
    go("go-mod-unknown-directive", "go build ./...", {"go.mod": "module example.com/realtool\n\ngo 1.19\n\nrequir example.com/x v1.0.0\n",
                                                      "main.go": "package main\n\nfunc main() {}\n"},
       err("syntax", "go.mod", "unknown directive: requir", at="requir", fixable=True)),
    go("go-vet-printf", "go vet ./...", {"main.go": """
        package main

        import "fmt"

        func main() {
        	name := "ann"
        	fmt.Printf("hello %d\\n", name)
        }
    """}, err("lint", "main.go", "Printf format %d has arg name of wrong type string", at="Printf"), tool="go vet"),
    go("go-vet-copylocks", "go vet ./...", {"main.go": """
        package main

        import (
        	"fmt"
        	"sync"
        )

        type Counter struct {
        	mu sync.Mutex
        	n  int
        }

        func show(c Counter) {
        	fmt.Println(c.n)
        }

        func main() {
        	var c Counter
        	show(c)
        }
    """}, err("lint", "main.go", "passes lock by value", at="func show"), tool="go vet"),
    go("go-vet-unreachable", "go vet ./...", {"main.go": """
        package main

        import "fmt"

        func f() int {
        	return 1
        	fmt.Println("never")
        	return 2
        }

        func main() {
        	fmt.Println(f())
        }
    """}, err("lint", "main.go", "unreachable code", at='"never"'), tool="go vet"),
    go("go-test-errorf", "go test ./...", {"calc.go": "package calc\n\nfunc Add(a, b int) int { return a - b }\n", "calc_test.go": """
        package calc

        import "testing"

        func TestAdd(t *testing.T) {
        	if got := Add(2, 3); got != 5 {
        		t.Errorf("Add(2, 3) = %d, want 5", got)
        	}
        }
    """}, err("test", "calc_test.go", "Add(2, 3) = -1, want 5", at="t.Errorf"), tool="go test"),
    go("go-test-panic-nil-map", "go test ./...", {"store.go": """
        package store

        var cache map[string]int

        func Put(k string, v int) {
        	cache[k] = v
        }
    """, "store_test.go": """
        package store

        import "testing"

        func TestPut(t *testing.T) {
        	Put("a", 1)
        }
    """}, err("test", "store.go", "assignment to entry in nil map", at="cache[k] = v"), tool="go test"),
    go("go-test-timeout", "go test -timeout 1s ./...", {"slow_test.go": """
        package slow

        import (
        	"testing"
        	"time"
        )

        func TestSlow(t *testing.T) {
        	time.Sleep(5 * time.Second)
        }
    """}, err("timeout", "slow_test.go", "test timed out after 1s", at="time.Sleep"), tool="go test"),
    go("go-test-connection-refused", "go test ./...", {"client_test.go": """
        package client

        import (
        	"net/http"
        	"testing"
        )

        func TestHealth(t *testing.T) {
        	resp, err := http.Get("http://127.0.0.1:9/health")
        	if err != nil {
        		t.Fatalf("health check: %v", err)
        	}
        	resp.Body.Close()
        }
    """}, err("network", "client_test.go", "connection refused", at="t.Fatalf"), tool="go test"),
    go("go-test-build-failure", "go test ./...", {"m.go": "package m\n\nfunc Double(x int) int { return 2 * x }\n", "m_test.go": """
        package m

        import "testing"

        func TestDouble(t *testing.T) {
        	if Doubel(2) != 4 {
        		t.Fatal("bad")
        	}
        }
    """}, err("build", "m_test.go", "undefined: Doubel", at="Doubel", fixable=True),
       fix={"m_test.go": [("Doubel", "Double")]}, tool="go test"),
    go("go-run-stack-overflow", "go run .", {"main.go": """
        package main

        func down(n int) int {
        	return down(n+1) + 1
        }

        func main() {
        	down(0)
        }
    """}, err("resource", "main.go", "goroutine stack exceeds", at="return down")),
    # gcc / g++ / ld
    c("gcc-werror-unused-variable", "gcc -Wall -Werror -c main.c -o /dev/null", {"main.c": """
        int main(void) {
            int unused = 3;
            return 0;
        }
    """}, err("lint", "main.c", "unused variable ‘unused’", at="int unused", fixable=True),
      fix={"main.c": [("    int unused = 3;\n", "")]}, fix_check="gcc -Wall -Werror -c main.c -o /dev/null"),
    c("gcc-no-member-did-you-mean", "gcc -c main.c -o /dev/null",
      {"main.c": "struct counter {\n\tint count;\n};\n\nint get(struct counter *c)\n{\n\treturn c->coutn;\n}\n"},
      err("type", "main.c", "has no member named ‘coutn’", at="coutn", fixable=True),
      fix={"main.c": [("coutn", "count")]}),
    c("gcc-implicit-declaration", "gcc -Werror=implicit-function-declaration -c main.c -o /dev/null", {"main.c": """
        #include <stdio.h>

        int main(void) {
            prinf("hello\\n");
            return 0;
        }
    """}, err("build", "main.c", "implicit declaration of function ‘prinf’", at="prinf", fixable=True),
      fix={"main.c": [("prinf", "printf")]}),
    c("gcc-missing-header", "gcc -c main.c -o /dev/null", {"main.c": """
        #include <stdio.h>
        #include <curl/curl_cars_missing.h>

        int main(void) { return 0; }
    """}, err("dependency", "main.c", "curl/curl_cars_missing.h: No such file or directory", at="#include <curl")),
    c("gcc-syntax-missing-semicolon", "gcc -c main.c -o /dev/null", {"main.c": """
        int main(void) {
            int x = 1
            return x;
        }
    """}, err("syntax", "main.c", "expected ‘,’ or ‘;’ before ‘return’", at="return x")),
    c("gcc-incompatible-pointer", "gcc -Werror -c main.c -o /dev/null", {"main.c": """
        int main(void) {
            int n = 1;
            char *p = &n;
            return *p;
        }
    """}, err("type", "main.c", "incompatible-pointer-types", at="char *p")),
    c("gcc-format-werror", "gcc -Wall -Werror -c log.c -o /dev/null", {"log.c": """
        #include <stdio.h>

        void show(const char *name) {
            printf("%d\\n", name);
        }
    """}, err("lint", "log.c", "-Werror=format=", at="printf")),
    c("ld-undefined-reference", "gcc main.c -o app", {"main.c": """
        int compute(int);

        int main(void) {
            return compute(2);
        }
    """}, err("build", "main.c", "undefined reference to `compute'"), tool="ld"),
    c("ld-missing-library", "gcc main.c -o app -lcarsmissing", {"main.c": "int main(void) { return 0; }\n"},
      err("dependency", None, "cannot find -lcarsmissing"), tool="ld"),
    c("gxx-missing-include", "g++ -c main.cpp -o /dev/null", {"main.cpp": """
        int main() {
            std::cout << "hi" << std::endl;
            return 0;
        }
    """}, err("build", "main.cpp", "‘cout’ is not a member of ‘std’", at="std::cout", fixable=True),
      fix={"main.cpp": [("int main", "#include <iostream>\n\nint main")]}, tool="g++"),
    c("gxx-no-member", "g++ -c main.cpp -o /dev/null", {"main.cpp": """
        #include <string>

        int main() {
            std::string s = "abc";
            return s.lenght();
        }
    """}, err("type", "main.cpp", "has no member named ‘lenght’", at="lenght", fixable=True),
      fix={"main.cpp": [("lenght", "length")]}, tool="g++"),
    c("gxx-type-conversion", "g++ -c main.cpp -o /dev/null", {"main.cpp": """
        #include <string>
        #include <vector>

        int main() {
            std::vector<int> v;
            std::string s = v;
            return 0;
        }
    """}, err("type", "main.cpp", "conversion from", at="std::string s = v"), tool="g++"),
    c("gxx-link-undefined-method", "g++ main.cpp -o app", {"main.cpp": """
        struct Shape {
            double area() const;
        };

        int main() {
            Shape s;
            return static_cast<int>(s.area());
        }
    """}, err("build", "main.cpp", "undefined reference to `Shape::area() const'"), tool="ld"),
    # make
    c("make-missing-separator", "make", {"Makefile": "all:\n    echo building\n"},
      err("syntax", "Makefile", "missing separator", line=2, fixable=True), tool="make",
      fix={"Makefile": [("    echo", "\techo")]}),
    # GNU make 4.3 adds a hint when the recipe is indented with eight spaces.
    c("make-missing-separator-hint", "make",
      {"Makefile": "CC = cc\n\nall:\n\t@echo one\n        @echo two\n"},
      err("syntax", "Makefile", "missing separator", line=5, fixable=True), tool="make",
      fix={"Makefile": [("        @echo two", "\t@echo two")]}),
    c("make-script-not-executable", "make",
      {"Makefile": "all:\n\t./gen.sh\n", "gen.sh": ("#!/bin/sh\necho generated\n", 0o644)},
      err("permission", "gen.sh", "Permission denied", fixable=True), tool="make"),
    c("make-no-rule", "make", {"Makefile": "all: app\n\napp: main.o util.o\n\tcc -o app main.o util.o\n",
                               "main.c": "int main(void) { return 0; }\n"},
      err("build", "Makefile", "No rule to make target 'util.o', needed by 'app'"), tool="make"),
    c("make-compile-error", "make", {"Makefile": "CFLAGS = -Wall -Werror\n\napp: main.c\n\t$(CC) $(CFLAGS) -o app main.c\n",
                                     "main.c": "int main(void) {\n    return undefined_value;\n}\n"},
      err("build", "main.c", "‘undefined_value’ undeclared", line=2, tool="gcc"), tool="make"),
    c("make-missing-target", "make deploy", {"Makefile": "all:\n\t@echo ok\n"},
      err("config", "Makefile", "No rule to make target 'deploy'"), tool="make"),
    c("make-command-not-found", "make", {"Makefile": "all:\n\tprotoc-cars-missing --version\n"},
      err("dependency", "Makefile", "protoc-cars-missing: No such file or directory"), tool="make"),
    # cmake
    c("cmake-unknown-command", "cmake -S . -B build", {"CMakeLists.txt": """
        cmake_minimum_required(VERSION 3.16)
        project(app C)
        add_exectuable(app main.c)
    """, "main.c": "int main(void) { return 0; }\n"},
      err("config", "CMakeLists.txt", "Unknown CMake command \"add_exectuable\"", at="add_exectuable", fixable=True),
      tool="cmake", fix={"CMakeLists.txt": [("add_exectuable", "add_executable")]}),
    c("cmake-find-package", "cmake -S . -B build", {"CMakeLists.txt": """
        cmake_minimum_required(VERSION 3.16)
        project(app C)
        find_package(CarsMissingLib REQUIRED)
        add_executable(app main.c)
    """, "main.c": "int main(void) { return 0; }\n"},
      err("dependency", "CMakeLists.txt", "CarsMissingLib", at="find_package"), tool="cmake"),
    c("cmake-parse-error", "cmake -S . -B build", {"CMakeLists.txt": """
        cmake_minimum_required(VERSION 3.16)
        project(app C)
        add_executable(app main.c
    """, "main.c": "int main(void) { return 0; }\n"},
      err("syntax", "CMakeLists.txt", "Parse error", line=3), tool="cmake"),
    c("cmake-missing-source", "cmake -S . -B build", {"CMakeLists.txt": """
        cmake_minimum_required(VERSION 3.16)
        project(app C)
        add_executable(app main.c helpers.c)
    """, "main.c": "int main(void) { return 0; }\n"},
      err("build", "CMakeLists.txt", "Cannot find source file", at="add_executable"), tool="cmake"),
    # Java
    c("javac-cannot-find-symbol", "javac -d out App.java", {"App.java": """
        public class App {
            public static void main(String[] args) {
                int count = 2;
                System.out.println(coutn);
            }
        }
    """}, err("build", "App.java", "cannot find symbol", at="coutn", fixable=True),
      fix={"App.java": [("(coutn)", "(count)")]}, tool="javac"),
    c("javac-incompatible-types", "javac -d out App.java", {"App.java": """
        public class App {
            public static void main(String[] args) {
                int n = "three";
                System.out.println(n);
            }
        }
    """}, err("type", "App.java", "incompatible types: String cannot be converted to int", at='"three"'), tool="javac"),
    c("javac-syntax", "javac -d out App.java", {"App.java": """
        public class App {
            public static void main(String[] args) {
                System.out.println("hi")
            }
        }
    """}, err("syntax", "App.java", "';' expected", at='println("hi")', fixable=True),
      fix={"App.java": [('println("hi")', 'println("hi");')]}, tool="javac"),
    c("javac-package-missing", "javac -d out src/App.java", {"src/App.java": """
        import org.apache.commons.lang3.StringUtils;

        public class App {
            public static void main(String[] args) {
                System.out.println(StringUtils.capitalize("x"));
            }
        }
    """}, err("dependency", "src/App.java", "package org.apache.commons.lang3 does not exist", at="import org"), tool="javac"),
    c("java-null-pointer", "javac -d out App.java && java -cp out App", {"App.java": """
        public class App {
            static String name;

            public static void main(String[] args) {
                System.out.println(name.length());
            }
        }
    """}, err("unknown", "App.java", "NullPointerException", at="name.length()"), tool="java", needs=["java", "javac"]),
    c("java-stack-overflow", "javac -d out App.java && java -Xss512k -cp out App 2>&1 | head -20; exit ${PIPESTATUS[0]}", {"App.java": """
        public class App {
            static int down(int n) {
                return down(n + 1) + 1;
            }

            public static void main(String[] args) {
                down(0);
            }
        }
    """}, err("resource", "App.java", "StackOverflowError", at="return down"), tool="java", needs=["java", "javac"]),
    c("maven-bad-pom-xml", "mvn -B -o -q validate", {"pom.xml": """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>dev.cars</groupId>
          <artifactId>realtool</artifactId>
          <version>1.0</version>
        </projet>
    """}, err("syntax", "pom.xml", "Non-parseable POM", line=6), tool="maven"),
    c("maven-missing-dependency-version", "mvn -B -o -q validate", {"pom.xml": """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>dev.cars</groupId>
          <artifactId>realtool</artifactId>
          <version>1.0</version>
          <dependencies>
            <dependency>
              <groupId>junit</groupId>
              <artifactId>junit</artifactId>
            </dependency>
          </dependencies>
        </project>
    """}, err("config", "pom.xml", "'dependencies.dependency.version' for junit:junit:jar is missing", line=7), tool="maven"),
    c("maven-offline-plugin", "mvn -B -o compile", {"pom.xml": """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>dev.cars</groupId>
          <artifactId>realtool</artifactId>
          <version>1.0</version>
        </project>
    """, "src/main/java/App.java": "public class App {}\n"},
      err("dependency", "pom.xml", "offline mode"), tool="maven"),
]

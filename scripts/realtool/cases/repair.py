"""Cases for the repair sources added with issue 13's second round: names the tool says
are undefined with no suggestion of its own (the closest identifier of the file or its
package), a number in quotes for a Rust numeric type, and ruff's F841 whose fix ruff
marks unsafe only for the comments it may delete. New instances, not the templates'
own samples."""
from _case import case, err, cargo_toml as ct

A = "app.py"

CASES = [
    case("rust-quoted-number-argument", "cargo", "cargo build", {
        "Cargo.toml": ct("rust_quoted_number_argument"),
        "src/main.rs": """
            fn area(width: f64, height: f64) -> f64 {
                width * height
            }

            fn main() {
                println!("{}", area("2.5", 4.0));
            }
        """,
    }, err("type", "src/main.rs", "mismatched types", at="area(\"2.5\"", fixable=True, tool="rustc"),
        fix={"src/main.rs": [("area(\"2.5\"", "area(2.5")]}, needs=["cargo"]),
    case("go-undefined-other-file", "go", "go build ./...", {
        "go.mod": "module example.com/realtool\n\ngo 1.19\n",
        "shapes.go": """
            package main

            func Square(n int) int { return n * n }
        """,
        "main.go": """
            package main

            import "fmt"

            func main() {
            	fmt.Println(Sqaure(3))
            }
        """,
    }, err("build", "main.go", "undefined: Sqaure", at="Sqaure", fixable=True),
        fix={"main.go": [("Sqaure", "Square")]}, needs=["go"]),
    case("javac-cannot-find-method", "javac", "javac -d out Prices.java", {"Prices.java": """
        public class Prices {
            static int total(int[] xs) {
                int sum = 0;
                for (int x : xs) sum += x;
                return sum;
            }

            public static void main(String[] args) {
                System.out.println(totl(new int[] {1, 2}));
            }
        }
    """}, err("build", "Prices.java", "cannot find symbol", at="totl(", fixable=True),
        fix={"Prices.java": [("totl(", "total(")]}),
    case("python-name-error-no-hint", "python", "python3 app.py", {A: """
        def head(line):
            return lnie[:3]


        print(head("abcdef"))
    """}, err("type", A, "NameError: name 'lnie' is not defined", at="lnie[", fixable=True),
        fix={A: [("lnie[", "line[")]}),
    case("mypy-attr-no-hint", "mypy", "mypy --no-incremental app.py", {A: """
        class Item:
            def __init__(self, price: int) -> None:
                self.price = price


        def cost(i: Item) -> int:
            return i.prcie * 2
    """}, err("type", A, "\"Item\" has no attribute \"prcie\"", at="i.prcie", fixable=True),
        fix={A: [("i.prcie", "i.price")]}),
    case("ruff-unused-variable-comment", "ruff", "ruff check --no-cache app.py", {A: """
        def load(path):
            data = [path]  # kept for later
            return path
    """}, err("lint", A, "Local variable `data` is assigned to but never used", at="data =", fixable=True),
        fix={A: [("    data = [path]  # kept for later\n", "")]}),
]

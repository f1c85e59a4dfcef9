package main

import "github.com/carsrealtool/missing/pkg"

func main() {
	pkg.Run()
}

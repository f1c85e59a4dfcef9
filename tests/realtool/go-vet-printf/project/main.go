package main

import "fmt"

func main() {
	name := "ann"
	fmt.Printf("hello %d\n", name)
}

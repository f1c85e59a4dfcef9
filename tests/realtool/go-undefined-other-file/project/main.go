package main

import "fmt"

func main() {
	fmt.Println(Sqaure(3))
}

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

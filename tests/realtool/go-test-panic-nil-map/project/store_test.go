package store

import "testing"

func TestPut(t *testing.T) {
	Put("a", 1)
}

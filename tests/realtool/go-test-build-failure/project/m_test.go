package m

import "testing"

func TestDouble(t *testing.T) {
	if Doubel(2) != 4 {
		t.Fatal("bad")
	}
}

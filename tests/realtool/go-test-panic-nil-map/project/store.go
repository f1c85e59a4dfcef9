package store

var cache map[string]int

func Put(k string, v int) {
	cache[k] = v
}

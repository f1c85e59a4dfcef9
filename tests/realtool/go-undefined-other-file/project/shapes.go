package main

func Square(n int) int { return n * n }

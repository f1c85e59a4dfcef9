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

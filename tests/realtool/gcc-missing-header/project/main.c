#include <stdio.h>
#include <curl/curl_cars_missing.h>

int main(void) { return 0; }

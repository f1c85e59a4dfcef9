#include <stdio.h>

int main(void) {
    prinf("hello\n");
    return 0;
}

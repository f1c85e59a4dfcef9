#include <stdio.h>

void show(const char *name) {
    printf("%d\n", name);
}

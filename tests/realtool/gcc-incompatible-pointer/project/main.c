int main(void) {
    int n = 1;
    char *p = &n;
    return *p;
}

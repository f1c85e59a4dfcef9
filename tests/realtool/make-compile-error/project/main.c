int main(void) {
    return undefined_value;
}

function greet(name: string): string {
    return "hi " + name;
}
greet(42);

export function f(): number {
    const unused = 1;
    return 2;
}

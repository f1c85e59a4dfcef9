export function area(r: number): number {
    return PI * r * r;
}

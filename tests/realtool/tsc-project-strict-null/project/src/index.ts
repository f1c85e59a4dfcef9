export function len(s: string | undefined): number {
    return s.length;
}

public class Prices {
    static int total(int[] xs) {
        int sum = 0;
        for (int x : xs) sum += x;
        return sum;
    }

    public static void main(String[] args) {
        System.out.println(totl(new int[] {1, 2}));
    }
}

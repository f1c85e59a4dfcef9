public class App {
    public static void main(String[] args) {
        int n = "three";
        System.out.println(n);
    }
}

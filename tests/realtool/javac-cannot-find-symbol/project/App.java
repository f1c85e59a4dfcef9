public class App {
    public static void main(String[] args) {
        int count = 2;
        System.out.println(coutn);
    }
}

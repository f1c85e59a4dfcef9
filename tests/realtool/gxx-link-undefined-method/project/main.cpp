struct Shape {
    double area() const;
};

int main() {
    Shape s;
    return static_cast<int>(s.area());
}

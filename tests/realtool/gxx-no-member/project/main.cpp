#include <string>

int main() {
    std::string s = "abc";
    return s.lenght();
}

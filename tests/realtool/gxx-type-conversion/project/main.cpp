#include <string>
#include <vector>

int main() {
    std::vector<int> v;
    std::string s = v;
    return 0;
}

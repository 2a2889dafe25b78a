// Guards against a g++ 12 miscompile with -march=native on AVX-512 machines: SLP vectorisation turns
// some constant initialisers whose high half is zero into a full broadcast (int64 {5, 5, 0, 0} became
// {5, 5, 5, 5}). CMakeLists.txt disables SLP vectorisation for g++ < 13; this test fails without that.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace {

template <typename T>
__attribute__((noinline)) T element(const std::vector<T>& values, int i) {
  return values[i];
}

}  // namespace

TEST_CASE("build: vector constants with a zero high half survive the compiler") {
  const std::vector<int64_t> wide{5, 5, 0, 0};
  CHECK(element(wide, 2) == 0);
  CHECK(element(wide, 3) == 0);
  const std::vector<int32_t> narrow{7, 7, 7, 7, 0, 0, 0, 0};
  CHECK(element(narrow, 4) == 0);
  CHECK(element(narrow, 7) == 0);
  double array[4] = {0.5, 0.5, 0.0, 0.0};
  const std::vector<double> copied(array, array + 4);
  CHECK(element(copied, 2) == 0.0);
}

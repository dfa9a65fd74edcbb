// Small products run OpenBLAS on the calling thread; large ones keep the user's thread count.
#include <gtest/gtest.h>

#include <cblas.h>

#include <xgrad/core/blas_threads_impl.hpp>

namespace xgrad {
namespace {

// Sets OpenBLAS's thread count for one test and puts the previous one back.
class BlasThreadCount {
 public:
  explicit BlasThreadCount(int threads) : previous_(openblas_get_num_threads()) { openblas_set_num_threads(threads); }
  ~BlasThreadCount() { openblas_set_num_threads(previous_); }

 private:
  int previous_;
};

TEST(BlasThreads, SmallProductRunsOnOneThreadAndTheSettingComesBack) {
  const BlasThreadCount two(2);
  {
    const SmallGemmOnOneThread guard(300, 64, 64);  // a toy model's hidden layer
    EXPECT_EQ(openblas_get_num_threads(), 1);
  }
  EXPECT_EQ(openblas_get_num_threads(), 2);
}

TEST(BlasThreads, LargeProductKeepsTheUsersThreadCount) {
  const BlasThreadCount two(2);
  const SmallGemmOnOneThread guard(256, 512, 512);
  EXPECT_EQ(openblas_get_num_threads(), 2);
}

TEST(BlasThreads, SingleThreadedSettingIsLeftAlone) {
  const BlasThreadCount one(1);
  {
    const SmallGemmOnOneThread guard(30, 16, 16);
    EXPECT_EQ(openblas_get_num_threads(), 1);
  }
  EXPECT_EQ(openblas_get_num_threads(), 1);
}

}  // namespace
}  // namespace xgrad

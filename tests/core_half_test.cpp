#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ember/core/half.h"

namespace ember {

TEST(Half, EveryFp16ValueRoundTripsThroughF32) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_f32(uint16_t(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_f32(f32_to_fp16(f)))) << h;
      continue;
    }
    EXPECT_EQ(f32_to_fp16(f), h) << "fp16 bits " << h;
  }
}

TEST(Half, SubnormalsDecodeExactly) {
  EXPECT_EQ(fp16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_f32(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(f32_bits(fp16_to_f32(0x8000)), 0x80000000u);  // -0 keeps its sign
}

#if defined(__x86_64__) && defined(__FLT16_MAX__)
// The compiler's _Float16 conversion (IEEE round to nearest even) is an independent oracle.
TEST(Half, F32ToFp16MatchesCompilerConversion) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) {
    const uint32_t bits = rng();
    const float f = f32_from_bits(bits);
    if (std::isnan(f)) continue;
    const _Float16 h = static_cast<_Float16>(f);
    uint16_t expect;
    std::memcpy(&expect, &h, 2);
    ASSERT_EQ(f32_to_fp16(f), expect) << "f32 bits " << std::hex << bits;
  }
}
#endif

TEST(Half, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

}  // namespace ember

#include "ember/core/quantize.h"

#include <cstring>

#include "ember/core/half.h"

namespace ember {

bool quantize_row_repacked(DType t, const float* src, void* dst, int64_t n);  // repack.cpp
bool dequantize_row_repacked(DType t, const void* src, float* dst, int64_t n);

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case DType::F16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q4_0: return quantize_row_q4_0(src, dst, n);
    case DType::Q4_1: return quantize_row_q4_1(src, dst, n);
    case DType::Q5_0: return quantize_row_q5_0(src, dst, n);
    case DType::Q5_1: return quantize_row_q5_1(src, dst, n);
    case DType::Q8_0: return quantize_row_q8_0(src, dst, n);
    case DType::Q2_K: return quantize_row_q2_k(src, dst, n);
    case DType::Q3_K: return quantize_row_q3_k(src, dst, n);
    case DType::Q4_K: return quantize_row_q4_k(src, dst, n);
    case DType::Q5_K: return quantize_row_q5_k(src, dst, n);
    case DType::Q6_K: return quantize_row_q6_k(src, dst, n);
    default: quantize_row_repacked(t, src, dst, n); return;
  }
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case DType::F16: {
      const auto* x = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(x[i]);
      return;
    }
    case DType::BF16: {
      const auto* x = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(x[i]);
      return;
    }
    case DType::Q4_0: return dequantize_row_q4_0(src, dst, n);
    case DType::Q4_1: return dequantize_row_q4_1(src, dst, n);
    case DType::Q5_0: return dequantize_row_q5_0(src, dst, n);
    case DType::Q5_1: return dequantize_row_q5_1(src, dst, n);
    case DType::Q8_0: return dequantize_row_q8_0(src, dst, n);
    case DType::Q2_K: return dequantize_row_q2_k(src, dst, n);
    case DType::Q3_K: return dequantize_row_q3_k(src, dst, n);
    case DType::Q4_K: return dequantize_row_q4_k(src, dst, n);
    case DType::Q5_K: return dequantize_row_q5_k(src, dst, n);
    case DType::Q6_K: return dequantize_row_q6_k(src, dst, n);
    default: dequantize_row_repacked(t, src, dst, n); return;
  }
}

}  // namespace ember

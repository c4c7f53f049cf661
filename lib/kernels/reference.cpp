// Scalar references. Dense products go through Eigen in double precision so that the fast kernels'
// float rounding is the only error a test sees.
#include "ember/kernels/reference.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ember/core/quantize.h"

namespace ember::ref {
namespace {

// The rows x cols matrix W, dequantized, in double.
Eigen::MatrixXd dequantized(DType t, const void* W, int64_t rows, int64_t cols) {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> out(rows, cols);
  std::vector<float> row(static_cast<size_t>(cols));
  const size_t rb = row_bytes(t, cols);
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t, static_cast<const char*>(W) + size_t(r) * rb, row.data(), cols);
    for (int64_t c = 0; c < cols; ++c) out(r, c) = row[size_t(c)];
  }
  return out;
}

}  // namespace

std::vector<float> int8_activations(DType t, const float* x, int64_t n) {
  const int64_t block = dtype_block_size(t);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t b0 = 0; b0 < n; b0 += block) {
    float amax = 0;
    for (int64_t j = b0; j < b0 + block; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int64_t j = b0; j < b0 + block; ++j) out[size_t(j)] = std::nearbyint(x[j] * id) * d;
  }
  return out;
}

double int8_activation_error_bound(DType t, const void* w_row, const float* x, int64_t n) {
  const int64_t block = dtype_block_size(t);
  std::vector<float> w(static_cast<size_t>(n));
  dequantize_row(t, w_row, w.data(), n);
  double bound = 0;
  for (int64_t b0 = 0; b0 < n; b0 += block) {
    double amax = 0, wsum = 0;
    for (int64_t j = b0; j < b0 + block; ++j) {
      amax = std::max(amax, double(std::fabs(x[j])));
      wsum += std::fabs(w[size_t(j)]);
    }
    bound += wsum * amax / 127.0 / 2.0;
  }
  return bound;
}

double dot(DType t, const void* w_row, const float* x, int64_t n) {
  std::vector<float> w(static_cast<size_t>(n));
  dequantize_row(t, w_row, w.data(), n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(w[size_t(i)]) * double(x[i]);
  return s;
}

void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y) {
  const Eigen::MatrixXd w = dequantized(t, W, rows, cols);
  const Eigen::VectorXd xv = Eigen::Map<const Eigen::VectorXf>(x, cols).cast<double>();
  const Eigen::VectorXd yv = w * xv;
  for (int64_t r = 0; r < rows; ++r) y[r] = float(yv(r));
}

void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t m, float* Y) {
  const Eigen::MatrixXd w = dequantized(t, W, rows, cols);
  using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd x = Eigen::Map<const RowMajorF>(X, m, cols).cast<double>();
  const Eigen::MatrixXd y = x * w.transpose();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t r = 0; r < rows; ++r) Y[i * rows + r] = float(y(i, r));
}

void rmsnorm(const float* x, const float* w, float* out, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const double inv = 1.0 / std::sqrt(ss / double(n) + double(eps));
  for (int64_t i = 0; i < n; ++i) out[i] = float(double(x[i]) * inv * (w ? double(w[i]) : 1.0));
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const double max = *std::max_element(x, x + n);
  double sum = 0;
  std::vector<double> e(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) sum += e[size_t(i)] = std::exp(double(x[i]) - max);
  for (int64_t i = 0; i < n; ++i) x[i] = float(e[size_t(i)] / sum);
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = float(g / (1.0 + std::exp(-g)) * double(up[i]));
  }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, float theta,
          RopeStyle style, float freq_scale) {
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < rot_dim / 2; ++i) {
      const double freq = std::pow(double(theta), -2.0 * double(i) / double(rot_dim));
      const double angle = double(pos) * double(freq_scale) * freq;
      const double c = std::cos(angle), s = std::sin(angle);
      const int64_t a = style == RopeStyle::kNeox ? i : 2 * i;
      const int64_t b = style == RopeStyle::kNeox ? i + rot_dim / 2 : 2 * i + 1;
      const double x0 = v[a], x1 = v[b];
      v[a] = float(x0 * c - x1 * s);
      v[b] = float(x0 * s + x1 * c);
    }
  }
}

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  std::vector<double> scores;
  for (int64_t t = 0; t < s.n_q; ++t) {
    const int64_t n_seen = std::min(s.n_kv, s.q_pos0 + t + 1);
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const float* qh = q + (t * s.n_heads + h) * s.head_dim;
      const int64_t kvh = h / group;
      scores.assign(static_cast<size_t>(n_seen), 0.0);
      double max = -INFINITY;
      for (int64_t j = 0; j < n_seen; ++j) {
        const float* kj = k + j * s.kv_stride + kvh * s.head_dim;
        double d = 0;
        for (int64_t i = 0; i < s.head_dim; ++i) d += double(qh[i]) * double(kj[i]);
        scores[size_t(j)] = d * double(s.scale);
        max = std::max(max, scores[size_t(j)]);
      }
      double sum = 0;
      for (double& sc : scores) sum += sc = std::exp(sc - max);
      float* o = out + (t * s.n_heads + h) * s.head_dim;
      for (int64_t i = 0; i < s.head_dim; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < n_seen; ++j) acc += scores[size_t(j)] * double(v[j * s.kv_stride + kvh * s.head_dim + i]);
        o[i] = float(acc / sum);
      }
    }
  }
}

void topk(const float* x, int64_t n, int64_t k, int32_t* idx, float* val) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return x[a] > x[b]; });
  for (int64_t i = 0; i < std::min(n, k); ++i) {
    idx[i] = order[size_t(i)];
    val[i] = x[order[size_t(i)]];
  }
}

}  // namespace ember::ref

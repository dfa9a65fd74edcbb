#include <xgrad/kernels/winograd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <xgrad/kernels/buffer_cache.hpp>
#include <xgrad/kernels/cpu_clones.hpp>
#include <xgrad/kernels/gemm.hpp>

// The transforms are compiled for AVX-512, AVX2 and the baseline (kernels/cpu_clones.hpp).

namespace xgrad::winograd {

namespace {

// Every transform reads 8 x 8 input patches: F(4x4, 5x5) and F(6x6, 3x3), m + r - 1 = alpha = 8.
constexpr int kAlpha = 8;
constexpr int kPositions = kAlpha * kAlpha;
// m, the outputs per tile side, for an r x r kernel.
template <int R>
constexpr int kOutputs = kAlpha + 1 - R;
// Tiles transformed together, one per vector lane (one AVX-512 or two AVX2 registers of floats).
constexpr int kLanes = 16;

// ---- the transform matrices ----------------------------------------------------------------------

constexpr double power(double base, int exponent) {
  double result = 1.0;
  for (int e = 0; e < exponent; ++e) result *= base;
  return result;
}

// A^T (m x alpha), G (alpha x r) and B^T (alpha x alpha) of F(m, r), from alpha - 1 points p_j and
// infinity, for the correlation y_i = sum_k g_k d_{i+k}:
//   A^T[i][j] = p_j^i                    evaluates the m outputs' polynomial at p_j
//   G[j][k]   = p_j^k / prod_{l != j} (p_j - p_l)
//   B^T[j][t] = coefficient of x^t in prod_{l != j} (x - p_l)
// and for infinity (the last row or column) the top coefficient alone: A^T[m-1][inf] = 1,
// G[inf][r-1] = 1, B^T[inf] = the coefficients of prod_l (x - p_l). This is the Toom-Cook
// evaluation and Lagrange interpolation of a linear convolution, transposed into a correlation; the
// Lagrange denominators sit in G, which is applied once per filter and in double, so that B^T, which
// every input tile goes through, keeps exact small coefficients.
//
// The points: small and exact in binary; 0, +-1, +-2, +-1/2 keep the coefficients (and so the
// rounding) the smallest known for eight points.
constexpr double kPoints[kAlpha - 1] = {0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5};

// B^T, which depends on the points alone (so both kernel sizes share it).
struct InputTransform {
  double bt[kAlpha][kAlpha];
};

constexpr InputTransform build_input_transform() {
  InputTransform out{};
  for (int j = 0; j < kAlpha; ++j) {
    double poly[kAlpha] = {1.0};  // coefficients, lowest first
    int degree = 0;
    for (int l = 0; l < kAlpha - 1; ++l) {
      if (l == j) continue;
      for (int t = degree + 1; t > 0; --t) poly[t] = poly[t - 1] - kPoints[l] * poly[t];  // times (x - p_l)
      poly[0] *= -kPoints[l];
      ++degree;
    }
    for (int t = 0; t < kAlpha; ++t) out.bt[j][t] = poly[t];
  }
  return out;
}

// A^T and G of F(m, r).
template <int R>
struct Matrices {
  double at[kOutputs<R>][kAlpha];
  double g[kAlpha][R];
};

template <int R>
constexpr Matrices<R> build_matrices() {
  Matrices<R> mat{};
  for (int j = 0; j < kAlpha; ++j) {
    const bool infinity = j == kAlpha - 1;
    double denominator = 1.0;
    for (int l = 0; l < kAlpha - 1 && !infinity; ++l)
      if (l != j) denominator *= kPoints[j] - kPoints[l];
    for (int i = 0; i < kOutputs<R>; ++i)
      mat.at[i][j] = infinity ? (i == kOutputs<R> - 1 ? 1.0 : 0.0) : power(kPoints[j], i);
    for (int k = 0; k < R; ++k) mat.g[j][k] = infinity ? (k == R - 1 ? 1.0 : 0.0) : power(kPoints[j], k) / denominator;
  }
  return mat;
}

// Compile-time constants, so that every transform below is straight-line code in which the zero
// entries (a third of B^T's) take no instruction and the entries +-1 no multiplication.
constexpr InputTransform kInputTransform = build_input_transform();
template <int R>
constexpr Matrices<R> kMatrices = build_matrices<R>();

// ---- the tile transforms, kLanes tiles at a time ---------------------------------------------------

// kLanes floats, one tile each: GCC's vector extension, lowered to the registers of whichever clone
// runs (one zmm, two ymm or four xmm). Helpers taking Lanes are always inlined, so GCC's note about
// passing vectors between code compiled for different CPUs does not apply (reported at the end of
// the file, hence no matching pop).
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
#pragma GCC diagnostic ignored "-Wpsabi"

inline __attribute__((always_inline)) Lanes load(const float* values) {
  Lanes lanes;
  __builtin_memcpy(&lanes, values, sizeof lanes);
  return lanes;
}
inline __attribute__((always_inline)) void store(float* values, const Lanes& lanes) {
  __builtin_memcpy(values, &lanes, sizeof lanes);
}

// The three matrices the tile transforms multiply by, with their shapes and entries as compile-time
// constants: B^T, A^T of F(m, r), and their transposes B and A (the adjoints, for the gradients).
struct InputMatrix {
  static constexpr int kRows = kAlpha, kCols = kAlpha;
  static constexpr double at(int row, int col) { return kInputTransform.bt[row][col]; }
};
struct InputMatrixTransposed {
  static constexpr int kRows = kAlpha, kCols = kAlpha;
  static constexpr double at(int row, int col) { return kInputTransform.bt[col][row]; }
};
template <int R>
struct OutputMatrix {
  static constexpr int kRows = kOutputs<R>, kCols = kAlpha;
  static constexpr double at(int row, int col) { return kMatrices<R>.at[row][col]; }
};
template <int R>
struct OutputMatrixTransposed {
  static constexpr int kRows = kAlpha, kCols = kOutputs<R>;
  static constexpr double at(int row, int col) { return kMatrices<R>.at[col][row]; }
};

// sum += M[Row][T] in[T * step] for every lane; no instruction at all for a zero entry, and no
// multiplication for +-1 (which the compiler folds).
template <class Matrix, int Row, int T>
inline __attribute__((always_inline)) void add_term(Lanes& sum, const float* in, std::int64_t step) {
  constexpr double kEntry = Matrix::at(Row, T);
  if constexpr (kEntry != 0.0) sum += static_cast<float>(kEntry) * load(in + T * step);
}

template <class Matrix, int Row, int... T>
inline __attribute__((always_inline)) Lanes matrix_row(const float* in, std::int64_t step,
                                                       std::integer_sequence<int, T...>) {
  Lanes sum = {};
  (add_term<Matrix, Row, T>(sum, in, step), ...);
  return sum;
}

template <class Matrix, int... Row>
inline __attribute__((always_inline)) void multiply(const float* in, std::int64_t step, float* out,
                                                    std::int64_t out_step, std::integer_sequence<int, Row...>) {
  (store(out + Row * out_step, matrix_row<Matrix, Row>(in, step, std::make_integer_sequence<int, Matrix::kCols>())),
   ...);
}

// out[row * out_step] = (M in)[row] for every row of M, for one column of `in` (its entries `step`
// apart), every lane.
template <class Matrix>
inline __attribute__((always_inline)) void multiply(const float* in, std::int64_t step, float* out,
                                                    std::int64_t out_step) {
  multiply<Matrix>(in, step, out, out_step, std::make_integer_sequence<int, Matrix::kRows>());
}

// Where the tiles of one chunk read and write: per lane, image n's offset and the tile's top-left
// output position; lanes past the last tile have no image.
struct Chunk {
  std::int64_t image[kLanes];  // -1: no tile
  std::int64_t row[kLanes], col[kLanes];
};

struct TileGrid {
  std::int64_t size;        // m: outputs per tile side
  std::int64_t rows, cols;  // tiles per image along the height and the width
  std::int64_t per_image() const { return rows * cols; }
};

Chunk chunk_at(const TileGrid& grid, std::int64_t first_image, std::int64_t first_tile, std::int64_t count) {
  Chunk chunk;
  for (int l = 0; l < kLanes; ++l) {
    const std::int64_t t = first_tile + l;
    chunk.image[l] = l < count ? first_image + t / grid.per_image() : -1;
    chunk.row[l] = (t % grid.per_image()) / grid.cols * grid.size;
    chunk.col[l] = t % grid.cols * grid.size;
  }
  return chunk;
}

// One row of a patch (alpha = 8 floats), and the 8 x 8 transpose that turns eight tiles' rows into
// the lanes the transforms read.
typedef float PatchRow __attribute__((vector_size(kAlpha * sizeof(float))));
typedef std::int32_t PatchRowMask __attribute__((vector_size(kAlpha * sizeof(float))));
static_assert(kAlpha == 8 && kLanes % kAlpha == 0, "the transpose below is 8 x 8");

inline __attribute__((always_inline)) PatchRow load_row(const float* values) {
  PatchRow row;
  __builtin_memcpy(&row, values, sizeof row);
  return row;
}

// Elements I... of the 16 in (a, b): GCC's and clang's spellings of one vector shuffle.
template <int... I>
inline __attribute__((always_inline)) PatchRow shuffle(const PatchRow& a, const PatchRow& b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, I...);
#else
  return __builtin_shuffle(a, b, PatchRowMask{I...});
#endif
}

// r[k][b] -> r[b][k]: pairs of rows interleaved, then pairs of pairs, then the 128-bit halves.
inline __attribute__((always_inline)) void transpose(PatchRow r[kAlpha]) {
  PatchRow t[kAlpha], u[kAlpha];
  for (int k = 0; k < kAlpha; k += 2) {
    t[k] = shuffle<0, 8, 1, 9, 4, 12, 5, 13>(r[k], r[k + 1]);
    t[k + 1] = shuffle<2, 10, 3, 11, 6, 14, 7, 15>(r[k], r[k + 1]);
  }
  for (int k = 0; k < kAlpha; k += 4) {
    u[k] = shuffle<0, 1, 8, 9, 4, 5, 12, 13>(t[k], t[k + 2]);
    u[k + 1] = shuffle<2, 3, 10, 11, 6, 7, 14, 15>(t[k], t[k + 2]);
    u[k + 2] = shuffle<0, 1, 8, 9, 4, 5, 12, 13>(t[k + 1], t[k + 3]);
    u[k + 3] = shuffle<2, 3, 10, 11, 6, 7, 14, 15>(t[k + 1], t[k + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = shuffle<0, 1, 2, 3, 8, 9, 10, 11>(u[k], u[k + 4]);
    r[k + 4] = shuffle<4, 5, 6, 7, 12, 13, 14, 15>(u[k], u[k + 4]);
  }
}

// Where each lane's patch lies in an (N, C, H, W) batch, the same for every channel: read (or
// written) in place for a tile whose patch lies inside the plane, else only the part of it inside
// the plane, rows [top, bottom) and columns [left, right) of the patch (empty for a lane without a
// tile).
struct PatchSources {
  std::int64_t image[kLanes];   // offset of the tile's image, channel 0
  std::int64_t corner[kLanes];  // index of the patch's top-left element in a plane (may lie outside it)
  bool in_place[kLanes];
  int top[kLanes], bottom[kLanes], left[kLanes], right[kLanes];
};

inline __attribute__((always_inline)) PatchSources patch_sources(const Problem& p, const Chunk& chunk) {
  PatchSources src;
  for (int l = 0; l < kLanes; ++l) {
    const std::int64_t row = chunk.row[l] - p.pad_h, col = chunk.col[l] - p.pad_w;
    const bool tile = chunk.image[l] >= 0;
    src.image[l] = tile ? chunk.image[l] * p.channels * p.height * p.width : 0;
    src.corner[l] = row * p.width + col;
    src.in_place[l] = tile && row >= 0 && col >= 0 && row + kAlpha <= p.height && col + kAlpha <= p.width;
    if (src.in_place[l]) continue;
    auto clamp = [](std::int64_t v) { return static_cast<int>(std::clamp<std::int64_t>(v, 0, kAlpha)); };
    src.top[l] = clamp(-row);
    src.bottom[l] = tile ? std::max(src.top[l], clamp(p.height - row)) : src.top[l];
    src.left[l] = clamp(-col);
    src.right[l] = std::max(src.left[l], clamp(p.width - col));
  }
  return src;
}

// dst[0, n) = src[0, n) for n <= alpha, in pieces of constant length that the compiler turns into
// vector moves (a loop of run-time length it turns into a memmove call per row, which took a tenth
// of a LeNet convolution's time).
inline __attribute__((always_inline)) void copy_short(float* __restrict dst, const float* __restrict src, int n) {
  auto piece = [&](auto length) {
    for (int k = 0; k < length; ++k) dst[k] = src[k];
    dst += length;
    src += length;
  };
  if (n & 8) return piece(std::integral_constant<int, 8>());
  if (n & 4) piece(std::integral_constant<int, 4>());
  if (n & 2) piece(std::integral_constant<int, 2>());
  if (n & 1) piece(std::integral_constant<int, 1>());
}

// patch[(a * alpha + b) * kLanes + lane] = the input plane's value at (row - pad_h + a, col - pad_w + b)
// for each lane's tile, 0 outside the plane (padding, or a partial tile past its edge). A patch that
// reaches outside the plane is assembled in `edges` ([lane][a][b]), whose part outside the plane
// stays as zeroed before the first channel.
inline __attribute__((always_inline)) void gather_patches(const Problem& p, const PatchSources& src, const float* x,
                                                          std::int64_t channel, float* patch, float* edges) {
  const std::int64_t plane = p.height * p.width;
  const float* origin[kLanes];
  std::int64_t row_step[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const float* image = x + src.image[l] + channel * plane + src.corner[l];
    if (src.in_place[l]) {
      origin[l] = image;
      row_step[l] = p.width;
      continue;
    }
    float* copy = edges + l * kPositions;
    for (int a = src.top[l]; a < src.bottom[l]; ++a)
      copy_short(copy + a * kAlpha + src.left[l], image + a * p.width + src.left[l], src.right[l] - src.left[l]);
    origin[l] = copy;
    row_step[l] = kAlpha;
  }
  for (int group = 0; group < kLanes; group += kAlpha)
    for (int a = 0; a < kAlpha; ++a) {
      PatchRow r[kAlpha];
      for (int k = 0; k < kAlpha; ++k) r[k] = load_row(origin[group + k] + a * row_step[group + k]);
      transpose(r);
      for (int b = 0; b < kAlpha; ++b) __builtin_memcpy(patch + (a * kAlpha + b) * kLanes + group, &r[b], sizeof r[b]);
    }
}

// gather_patches' adjoint: each lane's patch (patch[(a * alpha + b) * kLanes + lane]) added onto
// dx where it lies inside the plane. Neighbouring tiles' patches overlap, and lanes are added one
// after the other, so every overlap gets both.
inline __attribute__((always_inline)) void scatter_add_patches(const Problem& p, const PatchSources& src,
                                                               std::int64_t channel, const float* patch, float* dx) {
  const std::int64_t plane = p.height * p.width;
  for (int group = 0; group < kLanes; group += kAlpha)
    for (int a = 0; a < kAlpha; ++a) {
      PatchRow r[kAlpha];
      for (int b = 0; b < kAlpha; ++b) r[b] = load_row(patch + (a * kAlpha + b) * kLanes + group);
      transpose(r);  // r[k]: row a of lane group + k's patch
      for (int k = 0; k < kAlpha; ++k) {
        const int l = group + k;
        float* row = dx + src.image[l] + channel * plane + src.corner[l] + a * p.width;
        if (src.in_place[l]) {
          const PatchRow sum = load_row(row) + r[k];
          __builtin_memcpy(row, &sum, sizeof sum);
        } else if (a >= src.top[l] && a < src.bottom[l]) {
          for (int b = src.left[l]; b < src.right[l]; ++b) row[b] += r[k][b];
        }
      }
    }
}

// V[xi][c][lanes] = B^T d B for every input channel c of one chunk's tiles: rows first (alpha x
// alpha -> alpha x alpha along b), then columns. `v` points at the chunk's first lane of position 0,
// channel 0; positions are `position_step` apart and channels `channel_step`.
XGRAD_CLONES_V4 void transform_inputs(const Problem& p, const Chunk& chunk, const float* x, float* v,
                                            std::int64_t channel_step, std::int64_t position_step) {
  alignas(64) float patch[kPositions * kLanes];  // [a][b][lane]
  alignas(64) float rows[kPositions * kLanes];   // [a][nu][lane] = (d B)[a][nu]
  alignas(64) float edges[kLanes * kPositions];  // [lane][a][b], tiles that reach outside the plane
  const PatchSources sources = patch_sources(p, chunk);
  for (int l = 0; l < kLanes; ++l)
    if (!sources.in_place[l]) std::fill(edges + l * kPositions, edges + (l + 1) * kPositions, 0.0f);
  for (std::int64_t c = 0; c < p.channels; ++c) {
    gather_patches(p, sources, x, c, patch, edges);
    for (int a = 0; a < kAlpha; ++a)
      multiply<InputMatrix>(patch + a * kAlpha * kLanes, kLanes, rows + a * kAlpha * kLanes, kLanes);
    for (int nu = 0; nu < kAlpha; ++nu)
      multiply<InputMatrix>(rows + nu * kLanes, kAlpha * kLanes, v + c * channel_step + nu * position_step,
                            kAlpha * position_step);
  }
}

// dx += B dV B^T for every input channel c of one chunk's tiles, placed where each patch lies:
// transform_inputs' adjoint. `dv` is laid out as transform_inputs writes V.
XGRAD_CLONES_V4 void transform_input_grads(const Problem& p, const Chunk& chunk, const float* dv, float* dx,
                                           std::int64_t channel_step, std::int64_t position_step) {
  alignas(64) float half[kPositions * kLanes];   // [a][nu][lane] = (B dV)[a][nu]
  alignas(64) float patch[kPositions * kLanes];  // [a][b][lane]
  const PatchSources sources = patch_sources(p, chunk);
  for (std::int64_t c = 0; c < p.channels; ++c) {
    for (int nu = 0; nu < kAlpha; ++nu)
      multiply<InputMatrixTransposed>(dv + c * channel_step + nu * position_step, kAlpha * position_step,
                                      half + nu * kLanes, kAlpha * kLanes);
    for (int a = 0; a < kAlpha; ++a)
      multiply<InputMatrixTransposed>(half + a * kAlpha * kLanes, kLanes, patch + a * kAlpha * kLanes, kLanes);
    scatter_add_patches(p, sources, c, patch, dx);
  }
}

// Where each lane's tile lies in the output: the index of its top-left element counted from the start
// of its image's output channel 0, and how many of its rows and columns lie inside the output
// (partial tiles at the right and bottom edges; none for a lane without a tile).
struct OutputTiles {
  std::int64_t corner[kLanes];
  int rows[kLanes], cols[kLanes];
};

OutputTiles output_tiles(const Problem& p, const Chunk& chunk, std::int64_t tile_size) {
  OutputTiles tiles;
  for (int l = 0; l < kLanes; ++l) {
    const bool tile = chunk.image[l] >= 0;
    tiles.corner[l] =
        tile ? chunk.image[l] * p.out_channels * p.out_h * p.out_w + chunk.row[l] * p.out_w + chunk.col[l] : 0;
    tiles.rows[l] = tile ? static_cast<int>(std::min(tile_size, p.out_h - chunk.row[l])) : 0;
    tiles.cols[l] = tile ? static_cast<int>(std::min(tile_size, p.out_w - chunk.col[l])) : 0;
  }
  return tiles;
}

// y tile = A^T M A (+ bias) for every output channel of one chunk's tiles, written where it lies
// inside the output (a partial tile at the right or bottom edge writes only its inside part).
template <int R>
inline __attribute__((always_inline)) void transform_outputs_of(const Problem& p, const Chunk& chunk, const float* m,
                                                                const float* bias, float* y, std::int64_t channel_step,
                                                                std::int64_t position_step) {
  constexpr int kM = kOutputs<R>;
  alignas(64) float half[kAlpha * kM * kLanes];  // [mu][j][lane] = (M A)[mu][j]
  alignas(64) float tile[kM * kM * kLanes];      // [i][j][lane]
  const std::int64_t plane = p.out_h * p.out_w;
  const OutputTiles tiles = output_tiles(p, chunk, kM);
  float* corner[kLanes];
  for (int l = 0; l < kLanes; ++l) corner[l] = y + tiles.corner[l];
  for (std::int64_t o = 0; o < p.out_channels; ++o) {
    const float* products = m + o * channel_step;
    for (int mu = 0; mu < kAlpha; ++mu)
      multiply<OutputMatrix<R>>(products + mu * kAlpha * position_step, position_step, half + mu * kM * kLanes, kLanes);
    for (int j = 0; j < kM; ++j)
      multiply<OutputMatrix<R>>(half + j * kLanes, kM * kLanes, tile + j * kLanes, kM * kLanes);
    const float offset = bias != nullptr ? bias[o] : 0.0f;
    for (int l = 0; l < kLanes && tiles.rows[l] > 0; ++l) {  // the lanes without a tile come last
      float* out = corner[l] + o * plane;
      if (tiles.rows[l] == kM && tiles.cols[l] == kM) {  // a whole tile: fixed bounds, unrolled
        for (int i = 0; i < kM; ++i)
          for (int j = 0; j < kM; ++j) out[i * p.out_w + j] = tile[(i * kM + j) * kLanes + l] + offset;
        continue;
      }
      for (int i = 0; i < tiles.rows[l]; ++i)
        for (int j = 0; j < tiles.cols[l]; ++j) out[i * p.out_w + j] = tile[(i * kM + j) * kLanes + l] + offset;
    }
  }
}

// dM[xi][o][lanes] = A dY A^T for every output channel of one chunk's tiles, dY the tile's part of dy
// (0 past the output's edge): the adjoint of transform_outputs, for the weight gradient.
template <int R>
inline __attribute__((always_inline)) void transform_output_grads_of(const Problem& p, const Chunk& chunk,
                                                                     const float* dy, float* dm,
                                                                     std::int64_t channel_step,
                                                                     std::int64_t position_step) {
  constexpr int kM = kOutputs<R>;
  alignas(64) float tile[kM * kM * kLanes];      // [i][j][lane]
  alignas(64) float half[kM * kAlpha * kLanes];  // [i][nu][lane] = (dY A^T)[i][nu]
  const std::int64_t plane = p.out_h * p.out_w;
  const OutputTiles tiles = output_tiles(p, chunk, kM);
  for (std::int64_t o = 0; o < p.out_channels; ++o) {
    for (int l = 0; l < kLanes; ++l) {
      const float* in = dy + tiles.corner[l] + o * plane;  // read only inside the tile's rows and columns
      const int rows = tiles.rows[l], cols = tiles.cols[l];
      if (rows == kM && cols == kM) {  // a whole tile: fixed bounds, unrolled
        for (int i = 0; i < kM; ++i)
          for (int j = 0; j < kM; ++j) tile[(i * kM + j) * kLanes + l] = in[i * p.out_w + j];
        continue;
      }
      for (int i = 0; i < kM; ++i)
        for (int j = 0; j < kM; ++j)
          tile[(i * kM + j) * kLanes + l] = i < rows && j < cols ? in[i * p.out_w + j] : 0.0f;
    }
    for (int i = 0; i < kM; ++i)
      multiply<OutputMatrixTransposed<R>>(tile + i * kM * kLanes, kLanes, half + i * kAlpha * kLanes, kLanes);
    for (int nu = 0; nu < kAlpha; ++nu)
      multiply<OutputMatrixTransposed<R>>(half + nu * kLanes, kAlpha * kLanes,
                                          dm + o * channel_step + nu * position_step, kAlpha * position_step);
  }
}

// Uninitialised floats from the buffer cache, for the transformed tiles (reused step after step).
class Scratch {
 public:
  explicit Scratch(std::int64_t count) : bytes_(static_cast<std::size_t>(count) * sizeof(float)) {
    data_ = static_cast<float*>(buffer_cache::allocate(bytes_));
  }
  ~Scratch() { buffer_cache::deallocate(data_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* data() const { return data_; }

 private:
  std::size_t bytes_;
  float* data_;
};

// Tiles per block: V and M of a block (alpha^2 (C_in + C_out) floats per tile) stay within about half
// of a 1 MB L2 cache between the transforms and the products.
constexpr std::int64_t kBlockBytes = std::int64_t{512} << 10;

std::int64_t block_tiles(const Problem& p) {
  const std::int64_t per_tile = kPositions * (p.channels + p.out_channels) * std::int64_t{sizeof(float)};
  return std::max<std::int64_t>(1, kBlockBytes / per_tile / kLanes) * kLanes;
}

// Calls body(width, chunk) for consecutive blocks of the tiles of images [first, last): width is the
// block's row length in V and M (its tile count rounded up to whole chunks), chunk(lane0) the Chunk
// of its tiles from lane0 on.
template <class Body>
void for_tile_blocks(const Problem& p, std::int64_t first, std::int64_t last, const Body& body) {
  const std::int64_t m = kAlpha + 1 - p.kernel;
  const TileGrid grid{m, (p.out_h + m - 1) / m, (p.out_w + m - 1) / m};
  const std::int64_t tiles = (last - first) * grid.per_image(), block = block_tiles(p);
  for (std::int64_t begin = 0; begin < tiles; begin += block) {
    const std::int64_t count = std::min(block, tiles - begin);
    body((count + kLanes - 1) / kLanes * kLanes,
         [&](std::int64_t lane0) { return chunk_at(grid, first, begin + lane0, count - lane0); });
  }
}

// V = B^T d B for a block's tiles, position-major: V[xi] is C_in rows of `width`.
template <class ChunkAt>
void transform_block_inputs(const Problem& p, std::int64_t width, const ChunkAt& chunk, const float* x, float* v) {
  for (std::int64_t lane0 = 0; lane0 < width; lane0 += kLanes)
    transform_inputs(p, chunk(lane0), x, v + lane0, width, p.channels * width);
}

// ---- the filter transforms, in double, eight filters at a time ---------------------------------------

// Eight filters, one per lane: (output channel, input channel) pairs in U's row order, so that each
// position's eight values are consecutive in U.
typedef double Filters __attribute__((vector_size(8 * sizeof(double))));
constexpr int kFilterLanes = 8;

// out[i][k] = sum over a, b of left(i, a) in[a][b] right(k, b), for every lane.
template <int I, int A, int B, int K, class Left, class Right>
inline __attribute__((always_inline)) void sandwich(const Left& left, const Filters (&in)[A][B], const Right& right,
                                                    Filters (&out)[I][K]) {
  Filters half[I][B];
  for (int i = 0; i < I; ++i)
    for (int b = 0; b < B; ++b) {
      Filters sum = {};
      for (int a = 0; a < A; ++a) sum += left(i, a) * in[a][b];
      half[i][b] = sum;
    }
  for (int i = 0; i < I; ++i)
    for (int k = 0; k < K; ++k) {
      Filters sum = {};
      for (int b = 0; b < B; ++b) sum += half[i][b] * right(k, b);
      out[i][k] = sum;
    }
}

// U = G w G^T for each filter.
template <int R>
inline __attribute__((always_inline)) void transform_filters_of(const Problem& p, const float* w, float* u) {
  const auto g = [](int row, int col) { return kMatrices<R>.g[row][col]; };
  const std::int64_t pairs = p.out_channels * p.channels;
  for (std::int64_t first = 0; first < pairs; first += kFilterLanes) {
    const auto count = static_cast<int>(std::min<std::int64_t>(kFilterLanes, pairs - first));
    Filters filter[R][R] = {}, transformed[kAlpha][kAlpha];
    for (int i = 0; i < R; ++i)
      for (int k = 0; k < R; ++k)
        for (int l = 0; l < count; ++l) filter[i][k][l] = w[(first + l) * R * R + i * R + k];
    sandwich(g, filter, g, transformed);
    for (int mu = 0; mu < kAlpha; ++mu)
      for (int nu = 0; nu < kAlpha; ++nu)
        for (int l = 0; l < count; ++l)
          u[(mu * kAlpha + nu) * pairs + first + l] = static_cast<float>(transformed[mu][nu][l]);
  }
}

// dw = G^T dU G for each filter: transform_filters_of's adjoint.
template <int R>
inline __attribute__((always_inline)) void filter_grads_of(const Problem& p, const float* du, float* dw) {
  const auto g_transposed = [](int row, int col) { return kMatrices<R>.g[col][row]; };
  const std::int64_t pairs = p.out_channels * p.channels;
  for (std::int64_t first = 0; first < pairs; first += kFilterLanes) {
    const auto count = static_cast<int>(std::min<std::int64_t>(kFilterLanes, pairs - first));
    Filters transformed[kAlpha][kAlpha] = {}, grad[R][R];
    for (int mu = 0; mu < kAlpha; ++mu)
      for (int nu = 0; nu < kAlpha; ++nu)
        for (int l = 0; l < count; ++l) transformed[mu][nu][l] = du[(mu * kAlpha + nu) * pairs + first + l];
    sandwich(g_transposed, transformed, g_transposed, grad);
    for (int i = 0; i < R; ++i)
      for (int k = 0; k < R; ++k)
        for (int l = 0; l < count; ++l) dw[(first + l) * R * R + i * R + k] = static_cast<float>(grad[i][k][l]);
  }
}

// The entry points of each kernel size, compiled for each CPU (see XGRAD_CLONES_V4).
XGRAD_CLONES_V4 void transform_outputs(const Problem& p, const Chunk& chunk, const float* m, const float* bias,
                                             float* y, std::int64_t channel_step, std::int64_t position_step) {
  if (p.kernel == 3) return transform_outputs_of<3>(p, chunk, m, bias, y, channel_step, position_step);
  transform_outputs_of<5>(p, chunk, m, bias, y, channel_step, position_step);
}
XGRAD_CLONES_V4 void transform_output_grads(const Problem& p, const Chunk& chunk, const float* dy, float* dm,
                                                  std::int64_t channel_step, std::int64_t position_step) {
  if (p.kernel == 3) return transform_output_grads_of<3>(p, chunk, dy, dm, channel_step, position_step);
  transform_output_grads_of<5>(p, chunk, dy, dm, channel_step, position_step);
}
XGRAD_CLONES_V4 void transform_filters_cloned(const Problem& p, const float* w, float* u) {
  if (p.kernel == 3) return transform_filters_of<3>(p, w, u);
  transform_filters_of<5>(p, w, u);
}
XGRAD_CLONES_V4 void filter_grads_cloned(const Problem& p, const float* du, float* dw) {
  if (p.kernel == 3) return filter_grads_of<3>(p, du, dw);
  filter_grads_of<5>(p, du, dw);
}

}  // namespace

bool suits(const Problem& p) {
  return (p.kernel == 3 || p.kernel == 5) && p.channels >= kMinChannels && p.out_channels >= kMinChannels;
}

std::int64_t filter_values(const Problem& p) { return kPositions * p.out_channels * p.channels; }

void transform_filters(const Problem& p, const float* w, float* u) { transform_filters_cloned(p, w, u); }

void filter_grads(const Problem& p, const float* du, float* dw) { filter_grads_cloned(p, du, dw); }

void forward(const Problem& p, const float* x, const float* u, const float* bias, float* y, std::int64_t first,
             std::int64_t last) {
  const Scratch v(kPositions * p.channels * block_tiles(p)), m(kPositions * p.out_channels * block_tiles(p));
  for_tile_blocks(p, first, last, [&](std::int64_t width, const auto& chunk) {
    transform_block_inputs(p, width, chunk, x, v.data());
    for (int xi = 0; xi < kPositions; ++xi)
      gemm(false, false, p.out_channels, width, p.channels, 1.0f, u + xi * p.out_channels * p.channels, p.channels,
           v.data() + xi * p.channels * width, width, 0.0f, m.data() + xi * p.out_channels * width, width);
    for (std::int64_t lane0 = 0; lane0 < width; lane0 += kLanes)
      transform_outputs(p, chunk(lane0), m.data() + lane0, bias, y, width, p.out_channels * width);
  });
}

void backward(const Problem& p, const float* x, const float* dy, const float* u, float* du, float* dx,
              std::int64_t first, std::int64_t last) {
  if (dx != nullptr) {
    const std::int64_t image = p.channels * p.height * p.width;
    std::fill(dx + first * image, dx + last * image, 0.0f);
  }
  const std::int64_t block = block_tiles(p);
  const Scratch v(du != nullptr ? kPositions * p.channels * block : 0);
  const Scratch dv(dx != nullptr ? kPositions * p.channels * block : 0);
  const Scratch dm(kPositions * p.out_channels * block);
  for_tile_blocks(p, first, last, [&](std::int64_t width, const auto& chunk) {
    for (std::int64_t lane0 = 0; lane0 < width; lane0 += kLanes)
      transform_output_grads(p, chunk(lane0), dy, dm.data() + lane0, width, p.out_channels * width);
    if (du != nullptr) {
      transform_block_inputs(p, width, chunk, x, v.data());
      // dU[xi] (C_out x C_in) += dM[xi] (C_out x tiles) . V[xi]^T
      for (int xi = 0; xi < kPositions; ++xi)
        gemm(false, true, p.out_channels, p.channels, width, 1.0f, dm.data() + xi * p.out_channels * width, width,
             v.data() + xi * p.channels * width, width, 1.0f, du + xi * p.out_channels * p.channels, p.channels);
    }
    if (dx != nullptr) {
      // dV[xi] (C_in x tiles) = U[xi]^T (C_in x C_out) . dM[xi] (C_out x tiles)
      for (int xi = 0; xi < kPositions; ++xi)
        gemm(true, false, p.channels, width, p.out_channels, 1.0f, u + xi * p.out_channels * p.channels, p.channels,
             dm.data() + xi * p.out_channels * width, width, 0.0f, dv.data() + xi * p.channels * width, width);
      for (std::int64_t lane0 = 0; lane0 < width; lane0 += kLanes)
        transform_input_grads(p, chunk(lane0), dv.data() + lane0, dx, width, p.channels * width);
    }
  });
}

}  // namespace xgrad::winograd

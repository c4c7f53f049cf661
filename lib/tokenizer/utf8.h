// UTF-8 helpers and GPT-2's byte <-> printable-character table (byte-level BPE).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::utf8 {

// Length of the sequence a lead byte starts (1 for a stray continuation byte, so loops advance).
inline size_t seq_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// The length of the well-formed UTF-8 character at s (Unicode's table 3-7: no overlongs,
// surrogates or values past U+10FFFF), or 0 when the bytes there cannot start one. `incomplete`:
// the n bytes are a correct start of a character cut short (more may come).
inline size_t char_len(const uint8_t* s, size_t n, bool& incomplete) {
  incomplete = false;
  const uint8_t c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (k >= n) {
      incomplete = true;
      return 0;
    }
    const uint8_t b = s[k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return len;
}

inline void append(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
}

// Decodes the code point at s[i] (valid UTF-8 assumed) and advances i.
inline uint32_t next(std::string_view s, size_t& i) {
  const uint8_t c = uint8_t(s[i]);
  const size_t n = seq_len(c);
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
// map to U+0100.. in order, so every byte has a visible character (tokens are strings of these).
struct ByteMap {
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 324> cp_to_byte;  // code points < 324 -> byte, or -1
  ByteMap() {
    cp_to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + extra++);
      append(byte_to_utf8[size_t(b)], cp);
      cp_to_byte[cp] = int16_t(b);
    }
  }
  static const ByteMap& get() {
    static const ByteMap m;
    return m;
  }
};

}  // namespace ember::utf8

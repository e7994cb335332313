//! SHA-256 in plain Rust, shaped for WebAssembly engines: the eight working variables
//! are renamed between rounds instead of moved, and the message schedule is a ring of
//! sixteen words indexed only by constants, so that both stay in locals (registers)
//! rather than in linear memory.

/// The initial hash value (FIPS 180-4, section 5.3.3).
pub(crate) const H0: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

/// The round constants (FIPS 180-4, section 4.2.2), sixteen per pass of [`compress`].
#[rustfmt::skip]
const K: [[u32; 16]; 4] = [
    [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    ],
    [
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    ],
    [
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    ],
    [
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ],
];

/// One round. Only `d` and `h` change: the caller passes the variables rotated by one
/// place for the next round, instead of moving eight values.
macro_rules! round {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $k:expr, $w:expr) => {
        let choose = $g ^ ($e & ($f ^ $g));
        let sigma1 = $e.rotate_right(6) ^ $e.rotate_right(11) ^ $e.rotate_right(25);
        let t1 = $h.wrapping_add(sigma1).wrapping_add(choose).wrapping_add($k).wrapping_add($w);
        let majority = ($a & $b) | ($c & ($a | $b));
        let sigma0 = $a.rotate_right(2) ^ $a.rotate_right(13) ^ $a.rotate_right(22);
        $d = $d.wrapping_add(t1);
        $h = t1.wrapping_add(sigma0).wrapping_add(majority);
    };
}

/// Four rounds over `k[i..i + 4]` and `w[i..i + 4]`. Afterwards the roles of `a..h` are
/// held by the variables passed as `e, f, g, h, a, b, c, d`.
macro_rules! four {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $k:ident, $w:ident, $i:expr) => {
        round!($a, $b, $c, $d, $e, $f, $g, $h, $k[$i], $w[$i]);
        round!($h, $a, $b, $c, $d, $e, $f, $g, $k[$i + 1], $w[$i + 1]);
        round!($g, $h, $a, $b, $c, $d, $e, $f, $k[$i + 2], $w[$i + 2]);
        round!($f, $g, $h, $a, $b, $c, $d, $e, $k[$i + 3], $w[$i + 3]);
    };
}

/// Adds the compression of `block` into `state`.
pub(crate) fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = words(block);
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (pass, k) in K.iter().enumerate() {
        if pass > 0 {
            expand(&mut w);
        }
        four!(a, b, c, d, e, f, g, h, k, w, 0);
        four!(e, f, g, h, a, b, c, d, k, w, 4);
        four!(a, b, c, d, e, f, g, h, k, w, 8);
        four!(e, f, g, h, a, b, c, d, k, w, 12);
    }
    let [s0, s1, s2, s3, s4, s5, s6, s7] = state;
    *state = [
        s0.wrapping_add(a),
        s1.wrapping_add(b),
        s2.wrapping_add(c),
        s3.wrapping_add(d),
        s4.wrapping_add(e),
        s5.wrapping_add(f),
        s6.wrapping_add(g),
        s7.wrapping_add(h),
    ];
}

/// The block as sixteen big-endian words, written out like [`expand`]: the core is
/// built for size in WebAssembly, where a loop stays a loop, and an array indexed in
/// one lives in memory instead of in locals.
#[inline(always)]
fn words(block: &[u8; 64]) -> [u32; 16] {
    macro_rules! words {
        ($($i:expr),*) => {
            [$(u32::from_be_bytes([block[4 * $i], block[4 * $i + 1], block[4 * $i + 2], block[4 * $i + 3]])),*]
        };
    }
    words!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
}

/// The next sixteen schedule words, each in place of the one sixteen before it.
/// Written out so that every index is a constant.
#[inline(always)]
fn expand(w: &mut [u32; 16]) {
    macro_rules! next {
        ($($t:expr),*) => {$(
            let (w15, w2) = (w[($t + 1) & 15], w[($t + 14) & 15]);
            let sigma0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
            let sigma1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
            w[$t] = w[$t].wrapping_add(sigma0).wrapping_add(w[($t + 9) & 15]).wrapping_add(sigma1);
        )*};
    }
    next!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

/// A message fed in parts, then padded and finished.
pub(crate) struct Hasher {
    state: [u32; 8],
    block: [u8; 64],
    /// Bytes of `block` already filled.
    filled: usize,
    /// Message length so far, in bytes.
    length: u64,
}

impl Hasher {
    pub(crate) fn new() -> Hasher {
        Hasher { state: H0, block: [0; 64], filled: 0, length: 0 }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let take = data.len().min(64 - self.filled);
            let (head, rest) = data.split_at(take);
            self.block[self.filled..self.filled + take].copy_from_slice(head);
            self.filled += take;
            data = rest;
            if self.filled < 64 {
                return;
            }
            compress(&mut self.state, &self.block);
            self.filled = 0;
        }
        let (blocks, rest) = data.as_chunks::<64>();
        for block in blocks {
            compress(&mut self.state, block);
        }
        self.block[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// Pads with `0x80`, zeros and the length in bits (FIPS 180-4, section 5.1.1).
    pub(crate) fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8);
        self.block[self.filled] = 0x80;
        self.block[self.filled + 1..].fill(0);
        if self.filled >= 56 {
            compress(&mut self.state, &self.block);
            self.block = [0; 64];
        }
        self.block[56..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, &self.block);
        let mut digest = [0u8; 32];
        for (bytes, word) in digest.as_chunks_mut::<4>().0.iter_mut().zip(self.state) {
            *bytes = word.to_be_bytes();
        }
        digest
    }
}

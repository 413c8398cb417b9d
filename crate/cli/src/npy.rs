//! Minimal `.npy` (NumPy format 1.0) writing and reading for little-endian C-order arrays.

use anyhow::{bail, Context, Result};
use std::io::Write;

/// An element type that `.npy` can hold.
pub trait Element: Copy {
    /// The NumPy dtype descriptor, e.g. `<f4`.
    const DESCR: &'static str;
    /// The element's little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
    /// The element from little-endian bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! element {
    ($t:ty, $d:expr) => {
        impl Element for $t {
            const DESCR: &'static str = $d;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("caller passes the element size"))
            }
        }
    };
}
element!(f32, "<f4");
element!(i32, "<i4");
element!(i64, "<i8");
element!(u8, "|u1");

/// The `.npy` bytes of `data` with `shape`.
pub fn to_bytes<T: Element>(shape: &[usize], data: &[T]) -> Vec<u8> {
    debug_assert_eq!(shape.iter().product::<usize>(), data.len());
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", T::DESCR);
    // Pad so that the data starts at a multiple of 64 bytes, header ending in '\n'.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + std::mem::size_of_val(data));
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        v.put(&mut out);
    }
    out
}

/// Writes `data` with `shape` to `path`.
pub fn write<T: Element>(path: &std::path::Path, shape: &[usize], data: &[T]) -> Result<()> {
    let mut f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(&to_bytes(shape, data)).with_context(|| format!("writing {}", path.display()))
}

/// Reads an `.npy` file of element type `T`: its shape and data.
pub fn read<T: Element>(path: &std::path::Path) -> Result<(Vec<usize>, Vec<T>)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    from_bytes(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// Parses `.npy` bytes of element type `T`.
pub fn from_bytes<T: Element>(bytes: &[u8]) -> Result<(Vec<usize>, Vec<T>)> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("not an .npy file");
    }
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => bail!("unsupported .npy version {v}"),
    };
    let header = std::str::from_utf8(bytes.get(start..start + len).context("truncated header")?)?;
    if !header.contains(&format!("'descr': '{}'", T::DESCR)) {
        bail!("expected dtype {}, header is {header}", T::DESCR);
    }
    if header.contains("'fortran_order': True") {
        bail!("Fortran order is not supported");
    }
    let shape_text = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).context("no shape")?;
    let shape: Vec<usize> = shape_text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    let n: usize = shape.iter().product();
    let size = std::mem::size_of::<T>();
    let data = &bytes[start + len..];
    if data.len() != n * size {
        bail!("expected {} data bytes, found {}", n * size, data.len());
    }
    Ok((shape, data.chunks_exact(size).map(T::get).collect()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let b = super::to_bytes(&[2, 3], &[1f32, 2., 3., 4., 5., 6.]);
        assert_eq!(b.len() % 64, 24);
        let (shape, data) = super::from_bytes::<f32>(&b).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(data[5], 6.0);
        assert!(super::from_bytes::<i32>(&b).is_err());
        let (shape, _) = super::from_bytes::<u8>(&super::to_bytes(&[4], &[1u8, 0, 1, 1])).unwrap();
        assert_eq!(shape, vec![4]);
    }
}

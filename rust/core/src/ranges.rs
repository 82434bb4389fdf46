//! Boxes of a C-order array as runs of consecutive elements: the part of a draw a shard
//! holds (`fill_box`), and the part of each sample a tensor-parallel sample dropout holds.
//! Spec: docs/spec.md#element-ranges.

#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// The names the caller's API gives a box's arguments, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxArgs {
    /// The whole array's shape.
    pub shape: &'static str,
    /// The box's first index.
    pub offset: &'static str,
}

/// The box `offset + [0, local)` of a C-order array: element `k` of the box (C order) is
/// element `starts[k / run] + k % run` of the whole array. One run for the whole array or
/// a split along the first dimension; one per row segment for a split along a later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementBox {
    starts: Vec<u64>,
    run: u64,
}

impl ElementBox {
    /// All `elements` elements of an array.
    pub fn whole(elements: u64) -> ElementBox {
        ElementBox {
            starts: if elements == 0 { vec![] } else { vec![0] },
            run: elements,
        }
    }

    /// The box `offset + [0, local)` of a C-order array of `shape`; errors name `args`.
    pub fn new(shape: &[u64], offset: &[u64], local: &[u64], args: BoxArgs) -> Result<ElementBox> {
        let nd = shape.len();
        if offset.len() != nd || local.len() != nd {
            return Err(Error::invalid(
                args.shape,
                format!(
                    "expected {nd} entries in {} and the box, got {} and {}",
                    args.offset,
                    offset.len(),
                    local.len()
                ),
            ));
        }
        for d in 0..nd {
            if offset[d].checked_add(local[d]).is_none_or(|e| e > shape[d]) {
                return Err(Error::invalid(
                    args.offset,
                    format!(
                        "a box of {local:?} at {offset:?} leaves {} {shape:?}",
                        args.shape
                    ),
                ));
            }
        }
        let too_big = || Error::invalid(args.shape, "more than 2**64 - 1 elements");
        let product = |dims: &[u64]| {
            dims.iter()
                .try_fold(1u64, |a, &b| a.checked_mul(b))
                .ok_or_else(too_big)
        };
        product(shape)?;
        if product(local)? == 0 {
            return Ok(ElementBox::whole(0));
        }
        // Trailing dimensions the box spans whole join the run; the first it cuts ends it.
        let mut k = nd;
        while k > 0 && offset[k - 1] == 0 && local[k - 1] == shape[k - 1] {
            k -= 1;
        }
        let inner = product(&shape[k..])?;
        if k == 0 {
            return Ok(ElementBox::whole(inner));
        }
        // C-order strides of the array (they fit: the product of the shape does).
        let mut strides = vec![1u64; nd];
        for d in (0..nd - 1).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        let run = local[k - 1] * inner;
        let outer = &local[..k - 1];
        let count = usize::try_from(product(outer)?).map_err(|_| too_big())?;
        let mut starts = Vec::new();
        starts
            .try_reserve_exact(count)
            .map_err(|_| Error::OutOfMemory {
                name: args.offset,
                bytes: count as u128 * 8,
            })?;
        let mut idx = vec![0u64; outer.len()];
        for _ in 0..count {
            let mut s = offset[k - 1] * strides[k - 1];
            for d in 0..outer.len() {
                s += (offset[d] + idx[d]) * strides[d];
            }
            starts.push(s);
            // The next index of the outer dimensions, in C order.
            for d in (0..outer.len()).rev() {
                idx[d] += 1;
                if idx[d] < outer[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Ok(ElementBox { starts, run })
    }

    /// Elements of the box.
    pub fn elements(&self) -> u64 {
        self.starts.len() as u64 * self.run
    }

    /// The first element (in the whole array) of each run.
    pub fn starts(&self) -> &[u64] {
        &self.starts
    }

    /// Elements of each run.
    pub fn run(&self) -> u64 {
        self.run
    }

    /// The runs as rows `(first element in the array, first element in the box,
    /// elements)`, by increasing place in the box: the `runs` of
    /// [`crate::fill::run_pieces`].
    pub fn rows(&self) -> impl ExactSizeIterator<Item = [u64; 3]> + '_ {
        let run = self.run;
        self.starts
            .iter()
            .enumerate()
            .map(move |(i, &s)| [s, i as u64 * run, run])
    }

    /// The most blocks of the array's draw one run reads: `ceil((start mod 4 + run) / 4)`.
    pub fn blocks_per_run(&self) -> u64 {
        self.starts
            .iter()
            .map(|s| (s % 4 + self.run).div_ceil(4))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: BoxArgs = BoxArgs {
        shape: "shape",
        offset: "offset",
    };

    fn boxed(shape: &[u64], offset: &[u64], local: &[u64]) -> Result<ElementBox> {
        ElementBox::new(shape, offset, local, ARGS)
    }

    #[test]
    fn runs_of_boxes() {
        let b = boxed(&[4, 7], &[1, 3], &[2, 4]).unwrap();
        assert_eq!((b.starts(), b.run()), (&[10u64, 17][..], 4));
        assert_eq!(b.blocks_per_run(), 2);
        let b = boxed(&[4, 7], &[1, 0], &[2, 7]).unwrap();
        assert_eq!((b.starts(), b.run()), (&[7u64][..], 14));
        assert_eq!(
            boxed(&[4, 7], &[0, 0], &[4, 7]).unwrap(),
            ElementBox::whole(28)
        );
        assert_eq!(boxed(&[4, 7], &[0, 0], &[0, 7]).unwrap().elements(), 0);
        assert_eq!(boxed(&[], &[], &[]).unwrap(), ElementBox::whole(1));
    }

    #[test]
    fn rows_place_runs_one_after_another() {
        let rows: Vec<_> = boxed(&[3, 4, 5], &[1, 1, 0], &[2, 2, 5])
            .unwrap()
            .rows()
            .collect();
        assert_eq!(rows, [[25, 0, 10], [45, 10, 10]]);
        let rows: Vec<_> = boxed(&[7, 5], &[0, 1], &[7, 3]).unwrap().rows().collect();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[..2], [[1, 0, 3], [6, 3, 3]]);
        assert_eq!(rows[6], [31, 18, 3]);
        assert_eq!(boxed(&[4], &[1], &[0]).unwrap().rows().count(), 0);
    }

    #[test]
    fn errors_name_the_arguments() {
        let names = BoxArgs {
            shape: "sample_shape",
            offset: "element_offset",
        };
        let name = |r: Result<ElementBox>| match r {
            Err(Error::InvalidArgument { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(name(boxed(&[4, 7], &[0, 5], &[1, 3])), "offset");
        assert_eq!(name(boxed(&[4, 7], &[0], &[1, 3])), "shape");
        assert_eq!(name(boxed(&[1 << 40, 1 << 40], &[0, 0], &[1, 1])), "shape");
        assert_eq!(name(boxed(&[4], &[u64::MAX], &[2])), "offset");
        let e = ElementBox::new(&[4, 7], &[0, 5], &[1, 3], names);
        assert_eq!(name(e), "element_offset");
        let e = ElementBox::new(&[4, 7], &[0], &[1, 3], names);
        assert_eq!(name(e), "sample_shape");
    }
}

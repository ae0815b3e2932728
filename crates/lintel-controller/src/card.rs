//! A card's raw bits, as a reader sends them (Wiegand order, most significant bit first),
//! turned into its facility code and number by the format set for the reader. Parity bits
//! are checked: a misread is refused, never decided as some other card.

use serde::{Deserialize, Serialize};

/// The card formats a reader may be set to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardFormat {
    /// HID H10301, 26 bits: even parity, 8-bit facility code, 16-bit number, odd parity.
    #[default]
    H10301,
    /// HID Corporate 1000, 35 bits: three parity bits, 12-bit company code (the facility
    /// code), 20-bit number.
    Corporate1000,
    /// HID H10304, 37 bits: even parity, 16-bit facility code, 19-bit number, odd parity.
    H10304,
    /// HID H10302, 37 bits: even parity, 35-bit number (no facility code), odd parity.
    H10302,
    /// Every bit read is the number (up to 64), without a facility code or parity.
    Raw,
}

/// A card as decided: its facility code (when its format has one) and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRead {
    pub facility_code: Option<u32>,
    pub number: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("{bits} bits read where the format {format:?} has {expected}")]
    Length {
        format: CardFormat,
        bits: usize,
        expected: usize,
    },
    #[error("a parity bit does not match: a misread")]
    Parity,
}

/// The `bits` read (`data` holds them from its first byte's top bit on).
pub fn decode(format: CardFormat, data: &[u8], bits: usize) -> Result<CardRead, CardError> {
    let bits = Bits::new(data, bits);
    let expected = match format {
        CardFormat::H10301 => 26,
        CardFormat::Corporate1000 => 35,
        CardFormat::H10304 | CardFormat::H10302 => 37,
        CardFormat::Raw => {
            if bits.len == 0 || bits.len > 64 {
                return Err(CardError::Length {
                    format,
                    bits: bits.len,
                    expected: 64,
                });
            }
            return Ok(CardRead {
                facility_code: None,
                number: bits.field(1, bits.len),
            });
        }
    };
    if bits.len != expected {
        return Err(CardError::Length {
            format,
            bits: bits.len,
            expected,
        });
    }
    // Bit positions count from 1, as the formats' documents number them. A parity bit makes
    // the count of ones over the bits it covers (itself included) even or odd.
    let even = |ones: usize| ones.is_multiple_of(2);
    let thirty_seven = || even(bits.ones(1..=19)) && !even(bits.ones(19..=37));
    let (parity_ok, facility_code, number) = match format {
        CardFormat::H10301 => (
            even(bits.ones(1..=13)) && !even(bits.ones(14..=26)),
            Some(bits.field(2, 9)),
            bits.field(10, 25),
        ),
        CardFormat::Corporate1000 => {
            let second = (3..=34).filter(|p| p % 3 != 2).chain([2]);
            let last = (2..=33).filter(|p| p % 3 != 1).chain([35]);
            (
                even(bits.ones_at(second)) && !even(bits.ones_at(last)) && !even(bits.ones(1..=35)),
                Some(bits.field(3, 14)),
                bits.field(15, 34),
            )
        }
        CardFormat::H10304 => (thirty_seven(), Some(bits.field(2, 17)), bits.field(18, 36)),
        CardFormat::H10302 => (thirty_seven(), None, bits.field(2, 36)),
        CardFormat::Raw => unreachable!("returned above"),
    };
    if !parity_ok {
        return Err(CardError::Parity);
    }
    Ok(CardRead {
        facility_code: facility_code.map(|fc| u32::try_from(fc).unwrap_or(u32::MAX)),
        number,
    })
}

struct Bits<'a> {
    data: &'a [u8],
    len: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], len: usize) -> Bits<'a> {
        Bits {
            data,
            len: len.min(data.len() * 8),
        }
    }

    /// Bit `position` (from 1).
    fn at(&self, position: usize) -> bool {
        let i = position - 1;
        self.data[i / 8] & (0x80 >> (i % 8)) != 0
    }

    fn ones(&self, positions: std::ops::RangeInclusive<usize>) -> usize {
        self.ones_at(positions)
    }

    fn ones_at(&self, positions: impl IntoIterator<Item = usize>) -> usize {
        positions.into_iter().filter(|&p| self.at(p)).count()
    }

    /// Bits `first..=last` as a number, the first the most significant.
    fn field(&self, first: usize, last: usize) -> u64 {
        (first..=last).fold(0, |n, p| (n << 1) | u64::from(self.at(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bits` ("0101…") packed as a reader sends them.
    fn packed(bits: &str) -> (Vec<u8>, usize) {
        let mut data = vec![0u8; bits.len().div_ceil(8)];
        for (i, b) in bits.bytes().enumerate() {
            if b == b'1' {
                data[i / 8] |= 0x80 >> (i % 8);
            }
        }
        (data, bits.len())
    }

    fn flip(bits: &str, position: usize) -> String {
        bits.char_indices()
            .map(|(i, c)| match (i + 1 == position, c) {
                (true, '1') => '0',
                (true, _) => '1',
                (false, c) => c,
            })
            .collect()
    }

    fn read(format: CardFormat, bits: &str) -> Result<CardRead, CardError> {
        let (data, len) = packed(bits);
        decode(format, &data, len)
    }

    #[test]
    fn h10301_reads_facility_code_and_number_and_checks_both_parities() {
        // Facility code 18 (0001 0010), number 12345 (0011 0000 0011 1001): the first 12 bits
        // after the leading parity hold two ones (even: 0), the last 12 hold seven (odd: 1).
        let bits = format!("{:026b}", 0x024_6073_u32);
        let card = read(CardFormat::H10301, &bits).unwrap();
        assert_eq!(
            card,
            CardRead {
                facility_code: Some(18),
                number: 12345
            }
        );
        for position in [1, 5, 20, 26] {
            assert_eq!(
                read(CardFormat::H10301, &flip(&bits, position)),
                Err(CardError::Parity),
                "bit {position}"
            );
        }
        assert!(matches!(
            read(CardFormat::H10301, &bits[..25]),
            Err(CardError::Length { expected: 26, .. })
        ));
    }

    /// Builds a Corporate 1000 card the way its parity rules say, independently of `decode`.
    fn corporate(company: u64, number: u64) -> String {
        let mut bits = [false; 36];
        for (i, b) in format!("{company:012b}{number:020b}").bytes().enumerate() {
            bits[3 + i] = b == b'1';
        }
        let ones = |bits: &[bool; 36], ps: &mut dyn Iterator<Item = usize>| {
            ps.filter(|&p| bits[p]).count()
        };
        bits[2] = ones(&bits, &mut (3..=34).filter(|p| p % 3 != 2)) % 2 == 1;
        bits[35] = ones(&bits, &mut (2..=33).filter(|p| p % 3 != 1)) % 2 == 0;
        bits[1] = ones(&bits, &mut (2..=35)) % 2 == 0;
        bits[1..]
            .iter()
            .map(|&b| if b { '1' } else { '0' })
            .collect()
    }

    #[test]
    fn corporate_1000_reads_its_company_code_and_checks_three_parities() {
        let bits = corporate(1234, 567_890);
        let card = read(CardFormat::Corporate1000, &bits).unwrap();
        assert_eq!(
            card,
            CardRead {
                facility_code: Some(1234),
                number: 567_890
            }
        );
        for position in [1, 2, 3, 17, 35] {
            assert_eq!(
                read(CardFormat::Corporate1000, &flip(&bits, position)),
                Err(CardError::Parity),
                "bit {position}"
            );
        }
    }

    #[test]
    fn the_37_bit_formats_read_with_and_without_a_facility_code() {
        // Facility code 6000, number 400000: even parity over 1–19, odd over 19–37.
        let body = format!("{:016b}{:019b}", 6000, 400_000);
        let even = body[..18].bytes().filter(|&b| b == b'1').count() % 2;
        let odd = 1 - body[17..].bytes().filter(|&b| b == b'1').count() % 2;
        let bits = format!("{even}{body}{odd}");
        assert_eq!(
            read(CardFormat::H10304, &bits).unwrap(),
            CardRead {
                facility_code: Some(6000),
                number: 400_000
            }
        );
        assert_eq!(
            read(CardFormat::H10302, &bits).unwrap(),
            CardRead {
                facility_code: None,
                number: (6000 << 19) | 400_000
            }
        );
        assert_eq!(
            read(CardFormat::H10304, &flip(&bits, 37)),
            Err(CardError::Parity)
        );
        assert!(read(CardFormat::H10304, &bits[..26]).is_err());
    }

    #[test]
    fn raw_takes_every_bit_as_the_number() {
        let card = read(CardFormat::Raw, "10000000000000000000000000000001").unwrap();
        assert_eq!(card.number, 0x8000_0001);
        assert_eq!(card.facility_code, None);
        assert!(read(CardFormat::Raw, "").is_err());
    }
}

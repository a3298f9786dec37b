//! Trend and anomaly statistics over daily series.

use serde::Serialize;

/// Least-squares slope of `values` against their index (units per day); 0 for < 2 points.
pub fn slope(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if values.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    num / den
}

/// The Mann–Kendall trend test of a series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannKendall {
    /// S = Σ sign(xⱼ − xᵢ) over i < j.
    pub s: i64,
    /// Kendall's τ = S / (n(n−1)/2), in −1 … 1.
    pub tau: f64,
    /// The normal approximation Z (continuity-corrected, tie-corrected variance); > 1.96 is a
    /// significant increase at 5 %.
    pub z: f64,
}

/// Mann–Kendall over `values` (0 everywhere for fewer than 3 points).
pub fn mann_kendall(values: &[f64]) -> MannKendall {
    let n = values.len();
    if n < 3 {
        return MannKendall { s: 0, tau: 0.0, z: 0.0 };
    }
    let mut s = 0i64;
    for i in 0..n {
        for j in i + 1..n {
            s += match values[j].total_cmp(&values[i]) {
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
            };
        }
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let term = |t: f64| t * (t - 1.0) * (2.0 * t + 5.0);
    let mut ties = 0.0;
    let mut run = 1.0;
    for w in sorted.windows(2) {
        if w[0] == w[1] {
            run += 1.0;
        } else {
            ties += term(run);
            run = 1.0;
        }
    }
    ties += term(run);
    let var = (term(n as f64) - ties) / 18.0;
    let z = match s {
        _ if var <= 0.0 => 0.0,
        s if s > 0 => (s as f64 - 1.0) / var.sqrt(),
        s if s < 0 => (s as f64 + 1.0) / var.sqrt(),
        _ => 0.0,
    };
    MannKendall { s, tau: s as f64 / (n * (n - 1) / 2) as f64, z }
}

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Iglewicz and Hoaglin's modified z-scores: 0.6745 (x − median) / MAD. When the MAD is 0
/// (more than half the values equal), the mean absolute deviation stands in:
/// (x − median) / (1.253314 · meanAD); when that is 0 too, every value is the median (0).
pub fn modified_z(values: &[f64]) -> (f64, Vec<f64>) {
    let m = median(values);
    let deviations: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    let mad = median(&deviations);
    let mean_ad = if values.is_empty() { 0.0 } else { deviations.iter().sum::<f64>() / values.len() as f64 };
    let z = values
        .iter()
        .map(|x| {
            if mad > 0.0 {
                0.6745 * (x - m) / mad
            } else if mean_ad > 0.0 {
                (x - m) / (1.253314 * mean_ad)
            } else {
                0.0
            }
        })
        .collect();
    (m, z)
}

/// |modified z| above this is "far from the usual volume" (Iglewicz and Hoaglin's cut-off).
pub const FAR: f64 = 3.5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_and_mann_kendall() {
        assert!((slope(&[1.0, 3.0, 5.0, 7.0]) - 2.0).abs() < 1e-12);
        assert_eq!(slope(&[4.0]), 0.0);
        let up = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((up.s, up.tau), (10, 1.0));
        // var = 5·4·15/18 = 16.667; z = 9 / 4.082
        assert!((up.z - 9.0 / (250.0f64 / 18.0 * 1.2).sqrt()).abs() < 1e-9, "{up:?}");
        let flat = mann_kendall(&[2.0, 2.0, 2.0, 2.0]);
        assert_eq!((flat.s, flat.z), (0, 0.0));
        assert!(mann_kendall(&[5.0, 4.0, 4.0, 1.0]).z < 0.0);
    }

    #[test]
    fn modified_z_flags_far_days() {
        let (m, z) = modified_z(&[100.0, 102.0, 98.0, 101.0, 99.0, 0.0, 400.0]);
        assert_eq!(m, 100.0);
        assert!(z[5] < -FAR && z[6] > FAR && z[..5].iter().all(|v| v.abs() < FAR), "{z:?}");
        let (_, z) = modified_z(&[10.0, 10.0, 10.0, 10.0, 50.0]);
        assert!(z[4] > FAR && z[0] == 0.0, "MAD 0: mean absolute deviation stands in: {z:?}");
        assert_eq!(modified_z(&[3.0, 3.0]).1, [0.0, 0.0]);
    }
}

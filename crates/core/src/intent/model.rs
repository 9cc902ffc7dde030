//! Multinomial logistic regression over the hashed features, trained by stochastic gradient
//! descent in a fixed order (a seeded shuffle per epoch), so training is deterministic.

use std::collections::HashMap;

use super::features::{self, Feature};
use super::{Classification, Intent};

const CLASSES: usize = Intent::ALL.len();
const EPOCHS: usize = 40;
const LEARNING_RATE: f32 = 2.0;
/// L2 shrinkage applied to the weights a step touches: keeps confidences honest on new text.
const L2: f32 = 1e-3;

/// The trained weights: one row per feature seen in training, and a bias per intent.
#[derive(Debug, Clone)]
pub struct Model {
    weights: HashMap<Feature, [f32; CLASSES]>,
    bias: [f32; CLASSES],
}

/// SplitMix64: a small, well-mixed, seeded sequence for the shuffles.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn order(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
        v
    }
}

fn softmax(mut scores: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in &mut scores {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in &mut scores {
        *s /= sum;
    }
    scores
}

impl Model {
    pub fn train(examples: &[(Intent, &str)]) -> Model {
        Model::train_with(examples, EPOCHS, LEARNING_RATE, L2)
    }

    fn train_with(
        examples: &[(Intent, &str)],
        epochs: usize,
        learning_rate: f32,
        l2: f32,
    ) -> Model {
        let data: Vec<(usize, Vec<(Feature, f32)>)> = examples
            .iter()
            .map(|(intent, text)| (intent.index(), features::of(text)))
            .collect();
        let mut model = Model {
            weights: HashMap::new(),
            bias: [0.0; CLASSES],
        };
        let mut shuffle = Shuffle(0x6761_7261_6765);
        for epoch in 0..epochs {
            let rate = learning_rate / (1.0 + epoch as f32 * 0.2);
            for i in shuffle.order(data.len()) {
                let (class, feats) = &data[i];
                let p = softmax(model.scores(feats));
                let mut grad = p;
                grad[*class] -= 1.0;
                for (k, g) in grad.iter().enumerate() {
                    model.bias[k] -= rate * g;
                }
                for (f, v) in feats {
                    let w = model.weights.entry(*f).or_insert([0.0; CLASSES]);
                    for (k, g) in grad.iter().enumerate() {
                        w[k] -= rate * (g * v + l2 * w[k]);
                    }
                }
            }
        }
        model
    }

    fn scores(&self, feats: &[(Feature, f32)]) -> [f32; CLASSES] {
        let mut s = self.bias;
        for (f, v) in feats {
            if let Some(w) = self.weights.get(f) {
                for (k, wk) in w.iter().enumerate() {
                    s[k] += wk * v;
                }
            }
        }
        s
    }

    /// The model's own answer: the likeliest intent and its probability, before thresholds.
    pub fn predict(&self, text: &str) -> Classification {
        let p = softmax(self.scores(&features::of(text)));
        let (best, confidence) = p
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |a, (k, v)| if v > a.1 { (k, v) } else { a });
        Classification {
            intent: Intent::ALL[best],
            confidence,
        }
    }
}

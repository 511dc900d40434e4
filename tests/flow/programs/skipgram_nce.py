"""word2vec's basic skip-gram (the TF1 tutorial's model): embeddings of centre words trained
with tf.nn.nce_loss to tell each word's neighbour from sampled noise words, by plain gradient
descent (sparse updates of the rows looked up). The corpus is a random walk over 50 "words"
(each followed by the word 1, 2 or 5 places on). The noise words are drawn with numpy from
the log-uniform distribution TF's sampler uses and passed as `sampled_values`, so the run is
the same on every runtime; the sampler's own expected counts for the true words (which do not
depend on its draw when unique=False) are reported too."""

import digits
import numpy as np

import flow as tf

VOCAB, DIM, NUM_SAMPLED, BATCH = 50, 16, 8, 128

walk = np.random.RandomState(3)
corpus = np.cumsum(walk.choice([1, 2, 5], size=6000, p=[0.5, 0.3, 0.2])) % VOCAB
centres = np.concatenate([corpus[:-1], corpus[1:]]).astype(np.int32)
contexts = np.concatenate([corpus[1:], corpus[:-1]]).astype(np.int64)
order = walk.permutation(len(centres))
centres, contexts = centres[order], contexts[order]


def log_uniform_noise(rng):
    """NUM_SAMPLED distinct words, P(k) = log((k + 2) / (k + 1)) / log(VOCAB + 1), and the
    expected counts TF's unique sampler reports for them and for `true` words."""
    picked, tries = [], 0
    while len(picked) < NUM_SAMPLED:
        k = int(np.exp(rng.uniform() * np.log(VOCAB + 1.0))) - 1
        tries += 1
        if k not in picked:
            picked.append(k)

    def expected(k):
        p = np.log((k + 2.0) / (k + 1.0)) / np.log(VOCAB + 1.0)
        return (-np.expm1(tries * np.log1p(-p))).astype(np.float32)

    return np.array(picked, np.int64), expected


centre = tf.placeholder(tf.int32, [None])
context = tf.placeholder(tf.int64, [None, 1])
sampled = tf.placeholder(tf.int64, [NUM_SAMPLED])
true_expected = tf.placeholder(tf.float32, [None, 1])
sampled_expected = tf.placeholder(tf.float32, [NUM_SAMPLED])
noise = (sampled, true_expected, sampled_expected)

embeddings = tf.Variable(tf.random_uniform([VOCAB, DIM], -1.0, 1.0))
nce_weights = tf.Variable(tf.truncated_normal([VOCAB, DIM], stddev=1.0 / np.sqrt(DIM)))
nce_biases = tf.Variable(tf.zeros([VOCAB]))
embed = tf.nn.embedding_lookup(embeddings, centre)
loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, labels=context,
                                     inputs=embed, num_sampled=NUM_SAMPLED,
                                     num_classes=VOCAB, sampled_values=noise))
softmax_loss = tf.reduce_mean(tf.nn.sampled_softmax_loss(
    nce_weights, nce_biases, context, embed, NUM_SAMPLED, VOCAB, sampled_values=noise))
train_op = tf.train.GradientDescentOptimizer(1.0).minimize(loss)

norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keepdims=True))
normalized = embeddings / norm
similarity = tf.matmul(normalized, normalized, transpose_b=True)
_, sampler_true_expected, _ = tf.nn.log_uniform_candidate_sampler(
    context, 1, NUM_SAMPLED, False, VOCAB)


def feed(rng, lo, size):
    words, expected = log_uniform_noise(rng)
    ctx = contexts[lo:lo + size, None]
    return {centre: centres[lo:lo + size], context: ctx, sampled: words,
            true_expected: expected(ctx), sampled_expected: expected(words)}


with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    digits.set_weights(tf, sess, seed=4, scale=0.5)
    held_out = feed(np.random.RandomState(9), len(centres) - 1000, 1000)
    first = sess.run(loss, held_out)
    noise_rng = np.random.RandomState(5)
    for step in range(400):
        lo = (step * BATCH) % (len(centres) - 1000 - BATCH)
        sess.run(train_op, feed(noise_rng, lo, BATCH))
    last, softmax_last, sim, counts = sess.run(
        [loss, softmax_loss, similarity, sampler_true_expected], held_out)
    words = np.arange(VOCAB)
    digits.report(
        loss=last, first_loss=first, sampled_softmax_loss=softmax_last,
        neighbour_similarity=sim[words, (words + 1) % VOCAB].mean(),
        far_similarity=sim[words, (words + 25) % VOCAB].mean(),
        sampler_true_expected_sum=counts.sum())

//! Group commit (issue 15): writes that arrive while one is being committed wait in a queue and
//! are written together under one commit.
//!
//! Nothing waits for a batch to fill: a lone write goes at once, in a batch of one. Under load
//! the queue fills while the previous batch commits, so one commit (one WAL append, or one
//! PostgreSQL flush and lock) is shared by many writes. A write's failure takes back that write
//! only (`run` decides how: `messages::ingest_many` uses savepoints); every caller hears its own
//! result, and only after the commit that made it durable.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult};

/// The most writes one commit carries: enough to amortise the commit, few enough that a reply
/// waiting behind a batch is not kept long.
pub(crate) const MAX_BATCH: usize = 64;

/// How many writes may wait for their turn before callers wait to queue.
const QUEUE: usize = 1024;

type Job<J, R> = (J, oneshot::Sender<StoreResult<R>>);

/// A queue in front of one writer task that runs batches with `run`.
pub(crate) struct Batcher<J, R> {
    queue: mpsc::Sender<Job<J, R>>,
}

impl<J: Send + 'static, R: Send + 'static> Batcher<J, R> {
    /// Starts the writer task; it ends when the batcher is dropped. `run` gets the batch in
    /// arrival order and returns one result per job, in the same order, or one error when the
    /// batch as a whole failed (its commit).
    pub(crate) fn start<F, Fut>(run: F) -> Batcher<J, R>
    where
        F: Fn(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = StoreResult<Vec<StoreResult<R>>>> + Send,
    {
        let (queue, mut jobs) = mpsc::channel::<Job<J, R>>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = jobs.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (inputs, replies): (Vec<J>, Vec<_>) = batch.into_iter().unzip();
                match run(inputs).await {
                    Ok(results) if results.len() == replies.len() => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            // A caller that went away still had its write made.
                            let _ = reply.send(result);
                        }
                    }
                    Ok(results) => {
                        let e = format!(
                            "a batch of {} gave {} results",
                            replies.len(),
                            results.len()
                        );
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Internal(anyhow::anyhow!("{e}"))));
                        }
                    }
                    // A lone write's failure is its own: its caller hears the error as it is.
                    Err(e) if replies.len() == 1 => {
                        let _ = replies.into_iter().next().map(|reply| reply.send(Err(e)));
                    }
                    Err(e) => {
                        let e = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Internal(anyhow::anyhow!(
                                "the write was not committed: {e}"
                            ))));
                        }
                    }
                }
            }
        });
        Batcher { queue }
    }

    /// Queues a write and waits until the commit that carried it.
    pub(crate) async fn submit(&self, job: J) -> StoreResult<R> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Internal(anyhow::anyhow!("the store's writer has stopped"));
        self.queue.send((job, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// One queue and writer task per key (an organisation on PostgreSQL, whose writers queue on
/// its row lock anyway): batches of different organisations commit side by side, and no batch
/// locks more than one organisation.
pub(crate) struct PerKey<J, R> {
    start: Box<dyn Fn() -> Batcher<J, R> + Send + Sync>,
    queues:
        std::sync::Mutex<std::collections::HashMap<inbox_core::Id, std::sync::Arc<Batcher<J, R>>>>,
}

impl<J: Send + 'static, R: Send + 'static> PerKey<J, R> {
    pub(crate) fn new(start: impl Fn() -> Batcher<J, R> + Send + Sync + 'static) -> PerKey<J, R> {
        PerKey {
            start: Box::new(start),
            queues: Default::default(),
        }
    }

    pub(crate) async fn submit(&self, key: inbox_core::Id, job: J) -> StoreResult<R> {
        let queue = {
            let mut queues = self
                .queues
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::sync::Arc::clone(
                queues
                    .entry(key)
                    .or_insert_with(|| std::sync::Arc::new((self.start)())),
            )
        };
        queue.submit(job).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_queued_together_share_a_batch_and_each_hears_its_own_result() {
        let (seen, mut sizes) = mpsc::unbounded_channel();
        let batcher = std::sync::Arc::new(Batcher::start(move |jobs: Vec<i64>| {
            let seen = seen.clone();
            async move {
                let _ = seen.send(jobs.len());
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(jobs
                    .into_iter()
                    .map(|j| {
                        if j < 0 {
                            Err(StoreError::Invalid(format!("{j} is negative")))
                        } else {
                            Ok(j * 2)
                        }
                    })
                    .collect())
            }
        }));
        let mut waiting = Vec::new();
        for j in [1, 2, -3, 4, 5] {
            let b = std::sync::Arc::clone(&batcher);
            waiting.push(tokio::spawn(async move { b.submit(j).await }));
            tokio::task::yield_now().await;
        }
        let mut results = Vec::new();
        for w in waiting {
            results.push(w.await.unwrap());
        }
        assert_eq!(results[0].as_ref().unwrap(), &2);
        assert!(matches!(results[2], Err(StoreError::Invalid(_))));
        assert_eq!(results[4].as_ref().unwrap(), &10);
        let mut batches = Vec::new();
        while let Ok(n) = sizes.try_recv() {
            batches.push(n);
        }
        assert_eq!(batches.iter().sum::<usize>(), 5);
        assert!(
            batches.len() < 5,
            "later writes waited and went together: {batches:?}"
        );
    }

    #[tokio::test]
    async fn a_batch_that_fails_to_commit_fails_every_write_in_it() {
        let batcher = Batcher::start(|_: Vec<i64>| async {
            Err::<Vec<StoreResult<i64>>, _>(StoreError::Internal(anyhow::anyhow!("disk full")))
        });
        let e = batcher.submit(1).await.unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
    }
}

//! `cargo xtask update-images`: (being written) set the base image tag in every kustomization.

use crate::{Ctx, Status, flags};
use anyhow::Result;

pub fn run(_flags: &flags::UpdateImages, _ctx: &Ctx) -> Result<Status> {
    anyhow::bail!("update-images is not implemented yet")
}

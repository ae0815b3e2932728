//! The list shape every collection shares: `?limit=&cursor=` in, `items` and `next_cursor` out.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::{ListRequest, Listed};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// How many items to return, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<ListParams> for ListRequest {
    fn from(p: ListParams) -> Self {
        ListRequest {
            limit: p.limit,
            cursor: p.cursor,
        }
    }
}

/// One page of a collection, in creation order.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<Listed<T>> for List<T> {
    fn from(l: Listed<T>) -> Self {
        List {
            items: l.items,
            next_cursor: l.next_cursor,
        }
    }
}

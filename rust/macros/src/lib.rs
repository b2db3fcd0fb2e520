// SPDX-License-Identifier: GPL-2.0

//! Host stand-in for the kernel's `macros` crate: the attribute that the
//! logic files of `fs/fuse_iomap/` put on their pinned structures.
//!
//! The host's locks and wait queues may move, so the host initialises a
//! structure by value (see `kernel::init`) and needs none of the pin
//! projections that the kernel's `#[pin_data]` generates. What it must do
//! is consume the `#[pin]` markers on fields, which are no attribute the
//! compiler knows.

use proc_macro::{Delimiter, Group, TokenStream, TokenTree};

/// `#[pin_data]`: the structure as written, without its fields' `#[pin]`.
#[proc_macro_attribute]
pub fn pin_data(_args: TokenStream, item: TokenStream) -> TokenStream {
    item.into_iter()
        .map(|tt| match tt {
            // The structure's body: the only braces at the item's top level.
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                let mut body = Group::new(Delimiter::Brace, strip_pin(g.stream()));
                body.set_span(g.span());
                TokenTree::Group(body)
            }
            tt => tt,
        })
        .collect()
}

/// `fields` without any `#[pin]`.
fn strip_pin(fields: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = fields.into_iter().peekable();
    while let Some(tt) = tokens.next() {
        if let TokenTree::Punct(p) = &tt {
            if p.as_char() == '#' {
                if let Some(TokenTree::Group(g)) = tokens.peek() {
                    if g.delimiter() == Delimiter::Bracket && is_pin(g.stream()) {
                        tokens.next();
                        continue;
                    }
                }
            }
        }
        out.push(tt);
    }
    out.into_iter().collect()
}

/// Whether an attribute's content is exactly `pin`.
fn is_pin(attr: TokenStream) -> bool {
    let mut tokens = attr.into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(TokenTree::Ident(i)), None) if i.to_string() == "pin"
    )
}

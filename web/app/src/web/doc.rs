//! Core's lesson `Document` as HTML: the browser's renderer of the one
//! document model the terminal renders too (no second markdown path).

use crate::nav::{ConsoleLine, console_lines};
use layerlab_core::doc::{Align, Block, Inline, LinkTarget};
use leptos::prelude::*;

/// Renders blocks in order.
pub fn blocks(blocks: &[Block]) -> AnyView {
    blocks.iter().map(block).collect_view().into_any()
}

fn block(b: &Block) -> AnyView {
    match b {
        Block::Heading {
            level,
            anchor,
            content,
        } => {
            let inner = view! {
                {inlines(content)}
                <a class="anchor" href=format!("#{anchor}") aria-label="Link to this section">"#"</a>
            };
            let id = anchor.clone();
            match level {
                1 | 2 => view! { <h2 id=id>{inner}</h2> }.into_any(),
                3 => view! { <h3 id=id>{inner}</h3> }.into_any(),
                4 => view! { <h4 id=id>{inner}</h4> }.into_any(),
                _ => view! { <h5 id=id>{inner}</h5> }.into_any(),
            }
        }
        Block::Paragraph { content } => view! { <p>{inlines(content)}</p> }.into_any(),
        Block::Code { lang, text } => code(lang.as_deref(), text),
        Block::Diagram { title, text } => view! {
            <figure class="diagram">
                <pre>{text.clone()}</pre>
                {title.clone().map(|t| view! { <figcaption>{t}</figcaption> })}
            </figure>
        }
        .into_any(),
        Block::List { start, items } => {
            let items = items
                .iter()
                .map(|item| view! { <li>{blocks(item)}</li> })
                .map(IntoAny::into_any)
                .collect_view();
            match start {
                Some(n) => view! { <ol start=n.to_string()>{items}</ol> }.into_any(),
                None => view! { <ul>{items}</ul> }.into_any(),
            }
        }
        Block::Table {
            align,
            header,
            rows,
        } => {
            let class = |i: usize| match align.get(i) {
                Some(Align::Right) => "right",
                Some(Align::Center) => "center",
                _ => "",
            };
            let head = header
                .iter()
                .enumerate()
                .map(|(i, c)| view! { <th class=class(i)>{inlines(c)}</th> })
                .map(IntoAny::into_any)
                .collect_view();
            let body = rows
                .iter()
                .map(|r| {
                    let cells = r
                        .iter()
                        .enumerate()
                        .map(|(i, c)| view! { <td class=class(i)>{inlines(c)}</td> })
                        .map(IntoAny::into_any)
                        .collect_view();
                    view! { <tr>{cells}</tr> }
                })
                .map(IntoAny::into_any)
                .collect_view();
            view! {
                <div class="table-wrap">
                    <table>
                        <thead><tr>{head}</tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
        Block::Admonition {
            kind,
            blocks: inner,
        } => {
            let label = kind.label();
            view! {
                <aside class=format!("admonition {}", label.to_ascii_lowercase())>
                    <p class="admonition-title">{label}</p>
                    {blocks(inner)}
                </aside>
            }
            .into_any()
        }
        Block::Quote { blocks: inner } => {
            view! { <blockquote>{blocks(inner)}</blockquote> }.into_any()
        }
        Block::Rule => view! { <hr /> }.into_any(),
    }
}

/// A code block; shell sessions get their commands and output told apart.
fn code(lang: Option<&str>, text: &str) -> AnyView {
    let label = lang.map(str::to_string);
    let is_session = matches!(lang, Some("console" | "shell-session"));
    let body = if is_session {
        console_lines(text)
            .into_iter()
            .map(|line| match line {
                ConsoleLine::Command(p, cmd) => view! {
                    <span class="line cmd"><span class="prompt">{p.to_string()}</span>{cmd.to_string()}</span>
                }
                .into_any(),
                ConsoleLine::Continued(cmd) => view! { <span class="line cmd">{cmd.to_string()}</span> }.into_any(),
                ConsoleLine::Output(o) => view! { <span class="line out">{o.to_string()}</span> }.into_any(),
            })
            .collect_view()
            .into_any()
    } else {
        text.to_string().into_any()
    };
    view! {
        <div class="code-block">
            {label.map(|l| view! { <span class="code-lang">{l}</span> })}
            <pre class=format!("code lang-{}", lang.unwrap_or("text"))><code>{body}</code></pre>
        </div>
    }
    .into_any()
}

/// Renders inline content.
pub fn inlines(content: &[Inline]) -> AnyView {
    content.iter().map(inline).collect_view().into_any()
}

fn inline(i: &Inline) -> AnyView {
    match i {
        Inline::Text { text } => text.clone().into_any(),
        Inline::Code { text } => view! { <code>{text.clone()}</code> }.into_any(),
        Inline::Emphasis { content } => view! { <em>{inlines(content)}</em> }.into_any(),
        Inline::Strong { content } => view! { <strong>{inlines(content)}</strong> }.into_any(),
        Inline::Strikethrough { content } => view! { <s>{inlines(content)}</s> }.into_any(),
        Inline::Link { target, content } => match target {
            LinkTarget::Lesson { id, anchor } => {
                let href = match anchor {
                    Some(a) => format!("/lesson/{id}#{a}"),
                    None => format!("/lesson/{id}"),
                };
                view! { <a class="lesson-link" href=href>{inlines(content)}</a> }.into_any()
            }
            LinkTarget::External { url } => view! {
                <a class="external" href=url.clone() target="_blank" rel="noopener noreferrer">{inlines(content)}</a>
            }
            .into_any(),
        },
        Inline::LineBreak => view! { <br /> }.into_any(),
    }
}

/// Text with `backtick` spans as code (quiz prompts and choices).
pub fn ticked(text: &str) -> AnyView {
    crate::nav::code_spans(text)
        .into_iter()
        .map(|(is_code, t)| {
            if is_code {
                view! { <code>{t.to_string()}</code> }.into_any()
            } else {
                t.to_string().into_any()
            }
        })
        .collect_view()
        .into_any()
}

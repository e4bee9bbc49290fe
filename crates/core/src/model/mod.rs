//! The records a workspace holds, as the API shows them, and the small
//! enumerations they use. Inputs (create and patch bodies) live beside the
//! record they change.

mod account;
mod activity;
mod deal;
mod goal;
mod membership;
mod party;
mod pipeline;
mod settings;

pub use account::*;
pub use activity::*;
pub use deal::*;
pub use goal::*;
pub use membership::*;
pub use party::*;
pub use pipeline::*;
pub use settings::*;

/// Declares a string enum that serializes in snake_case, parses from text
/// with a helpful message, and stores as that same text.
#[macro_export]
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Result<Self, String> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{}` is not one of: {}",
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

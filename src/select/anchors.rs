//! What a read plan's needles read of the anchors: a view that an [`Event`] gives, and so can
//! an event held another way (compactly, by a hunt between its two passes or by a follower),
//! without being made an event again.

use crate::event::Event;

/// One anchor as the needles read it: its id, its event-data fields, its account.
pub trait Anchor {
    /// The event id.
    fn event_id(&self) -> u32;
    /// The field's value, as [`Event::field`] finds it.
    fn field(&self, name: &str) -> Option<&str>;
    /// The account's SID.
    fn user_sid(&self) -> Option<&str>;
    /// The account's name.
    fn user_name(&self) -> Option<&str>;

    /// Like [`Anchor::field`], but empty values and the Windows placeholder `-` are absent, as
    /// [`Event::field_nonempty`] has them.
    fn field_nonempty(&self, name: &str) -> Option<&str> {
        self.field(name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    }
}

impl Anchor for Event {
    fn event_id(&self) -> u32 {
        self.event_id
    }

    fn field(&self, name: &str) -> Option<&str> {
        Event::field(self, name)
    }

    fn user_sid(&self) -> Option<&str> {
        self.user.sid.as_deref()
    }

    fn user_name(&self) -> Option<&str> {
        self.user.name.as_deref()
    }
}

/// The anchors a plan's needles are made from, however they are held: each is visited in
/// order, as often as the needles need.
pub trait Anchors {
    /// Call `f` with every anchor, in order.
    fn each(&self, f: &mut dyn FnMut(&dyn Anchor));
}

impl Anchors for &[Event] {
    fn each(&self, f: &mut dyn FnMut(&dyn Anchor)) {
        for e in self.iter() {
            f(e);
        }
    }
}

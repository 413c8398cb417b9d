//! The `inventory` API as tract uses it (`collect!`, `submit!`, `iter`), written for this
//! workspace, which patches it in for the crates.io crate. One thing differs: `submit!` drops
//! two kinds of registration made by tract-core,
//!
//! - `ModelTransformFactory` (model transforms looked up by name: `conv_nhwc`, `batchify`,
//!   `f32_to_f16`, `block_quant`, ...);
//! - `InventorizedRuntime` (the runtimes `tract_core::runtime::runtimes()` lists).
//!
//! The engine builds its graph in code and runs it with `into_runnable()`; it never looks either
//! registry up. But a registration is a static constructor, and the linker keeps every
//! constructor and all it reaches: these two reach the convolution, scan and quantization code of
//! tract-core through the ops they create. Measured on the SIMD browser module: 3.24 MB raw /
//! 877 kB gzip with them, 2.56 MB / 676 kB without. `tests/browser/wasm-module.test.mjs` fails
//! if they come back (their names in the module's data). Every other registration (tract-linalg's
//! kernels and routines, tract-data's knobs) goes through as before.
//!
//! How it works: each `submit!` makes a static node and a static constructor (a function pointer
//! in `.init_array`, which the platform, or wasm-ld's `__wasm_call_ctors`, runs before any other
//! code) that pushes the node onto its type's list; `collect!` gives a type its list; `iter`
//! walks it. A node is pushed once even if the constructors run again.

#![no_std]

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// A type whose values can be registered with `submit!` (implemented by `collect!`).
pub trait Collect: Sync + Sized + 'static {
    #[doc(hidden)]
    fn registry() -> &'static Registry;
}

/// The list of one type's registered values, newest first.
#[doc(hidden)]
pub struct Registry {
    head: AtomicPtr<Node>,
}

impl Registry {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Registry { head: AtomicPtr::new(ptr::null_mut()) }
    }

    fn push(&'static self, node: &'static Node) {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            // SAFETY: `next` is written only here, before the node is published by the exchange
            // below, and a node is pushed once (`Node::submit`).
            unsafe { *node.next.get() = head.cast_const().as_ref() };
            let new = ptr::from_ref(node).cast_mut();
            match self.head.compare_exchange_weak(head, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }
}

/// One registered value (made by `submit!`, as a struct literal: a value written as a function's
/// argument would not live in the static).
#[doc(hidden)]
pub struct Node {
    pub value: &'static dyn ErasedNode,
    pub next: UnsafeCell<Option<&'static Node>>,
    pub pushed: AtomicBool,
}

/// What `submit!` names from its expansion.
#[doc(hidden)]
pub mod __private {
    pub use core::cell::UnsafeCell;
    pub use core::option::Option::None;
    pub use core::sync::atomic::AtomicBool;
}

// SAFETY: `next` is written once, before the node is reachable from a registry.
unsafe impl Sync for Node {}

impl Node {
    /// Pushes the node onto its value type's registry, the first time only.
    pub fn submit(node: &'static Node) {
        if !node.pushed.swap(true, Ordering::AcqRel) {
            node.value.push_into_registry(node);
        }
    }
}

/// A value of some `Collect` type, seen without its type: it knows its registry.
#[doc(hidden)]
pub trait ErasedNode: Sync {
    fn push_into_registry(&self, node: &'static Node);
}

impl<T: Collect> ErasedNode for T {
    fn push_into_registry(&self, node: &'static Node) {
        T::registry().push(node);
    }
}

/// The registered values of `T`, newest first.
pub struct Iter<T: 'static> {
    node: Option<&'static Node>,
    marker: PhantomData<fn() -> T>,
}

impl<T: Collect> Iterator for Iter<T> {
    type Item = &'static T;

    fn next(&mut self) -> Option<&'static T> {
        let node = self.node?;
        // SAFETY: a node is in `T`'s registry only if its value is a `T` (`ErasedNode` for `T`
        // pushes into `T::registry()`), and `next` no longer changes once the node is published.
        unsafe {
            self.node = *node.next.get();
            Some(&*ptr::from_ref(node.value).cast::<T>())
        }
    }
}

impl<T> Clone for Iter<T> {
    fn clone(&self) -> Self {
        Iter { node: self.node, marker: PhantomData }
    }
}

fn iter_of<T: Collect>() -> Iter<T> {
    // SAFETY: the head is null or a `&'static Node`.
    Iter { node: unsafe { T::registry().head.load(Ordering::Acquire).cast_const().as_ref() }, marker: PhantomData }
}

/// `iter::<T>` is both a type and its only value, so that both spellings tract uses work:
/// `inventory::iter::<T>()` and `inventory::iter::<T>.into_iter()`.
mod value {
    /// No value: keeps the phantom variant empty.
    #[doc(hidden)]
    pub enum Never {}

    #[allow(non_camel_case_types)]
    pub enum iter<T> {
        #[doc(hidden)]
        __Phantom(core::marker::PhantomData<fn() -> T>, Never),
        iter,
    }

    pub use self::iter::*;
}

pub use value::iter;

impl<T: Collect> IntoIterator for iter<T> {
    type Item = &'static T;
    type IntoIter = Iter<T>;

    fn into_iter(self) -> Iter<T> {
        iter_of()
    }
}

impl<T: Collect> Deref for iter<T> {
    type Target = fn() -> Iter<T>;

    fn deref(&self) -> &Self::Target {
        &(iter_of::<T> as fn() -> Iter<T>)
    }
}

/// Gives `$ty` a registry (in the crate that defines `$ty`).
#[macro_export]
macro_rules! collect {
    ($ty:ty) => {
        impl $crate::Collect for $ty {
            fn registry() -> &'static $crate::Registry {
                static REGISTRY: $crate::Registry = $crate::Registry::new();
                &REGISTRY
            }
        }
    };
}

/// Registers a value before `main` (before any export of a wasm module whose start function runs
/// the constructors), except tract-core's model transforms and runtimes (the crate's comment).
/// tract-core writes those as `ModelTransformFactory { .. }`, `$crate::transform::ModelTransformFactory
/// { .. }` and `$crate::runtime::InventorizedRuntime(..)`.
#[macro_export]
macro_rules! submit {
    (ModelTransformFactory $($rest:tt)*) => {};
    ($root:tt :: $module:tt :: ModelTransformFactory $($rest:tt)*) => {};
    ($root:tt :: $module:tt :: InventorizedRuntime $($rest:tt)*) => {};
    ($($value:tt)*) => {
        #[allow(non_upper_case_globals)]
        const _: () = {
            static __NODE: $crate::Node = $crate::Node {
                value: &{ $($value)* },
                next: $crate::__private::UnsafeCell::new($crate::__private::None),
                pushed: $crate::__private::AtomicBool::new(false),
            };

            extern "C" fn __register() {
                $crate::Node::submit(&__NODE);
            }

            #[used]
            #[cfg_attr(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_family = "wasm"), link_section = ".init_array")]
            #[cfg_attr(target_vendor = "apple", link_section = "__DATA,__mod_init_func")]
            #[cfg_attr(windows, link_section = ".CRT$XCU")]
            static __CONSTRUCTOR: extern "C" fn() = __register;
        };
    };
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    pub struct Plugin(pub &'static str);
    crate::collect!(Plugin);
    crate::submit! { Plugin("first") }
    crate::submit! { Plugin("second") }

    // The two shapes tract-core writes: the bare name, and a path of two segments.
    pub struct ModelTransformFactory(pub &'static str);
    crate::collect!(ModelTransformFactory);
    crate::submit! { ModelTransformFactory("dropped") }
    crate::submit! { crate::tests::ModelTransformFactory("dropped too") }

    pub struct InventorizedRuntime(pub &'static str);
    crate::collect!(InventorizedRuntime);
    crate::submit! { crate::tests::InventorizedRuntime("dropped") }

    pub struct Again(pub u8);
    crate::collect!(Again);
    static AGAIN: crate::Node =
        crate::Node { value: &Again(1), next: crate::__private::UnsafeCell::new(None), pushed: crate::__private::AtomicBool::new(false) };

    fn sorted<I: IntoIterator<Item = &'static Plugin>>(it: I) -> Vec<&'static str> {
        let mut v: Vec<&str> = it.into_iter().map(|p| p.0).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn submitted_values_are_listed_under_both_spellings() {
        assert_eq!(sorted(crate::iter::<Plugin>()), ["first", "second"]);
        assert_eq!(sorted(crate::iter::<Plugin>), ["first", "second"]);
    }

    #[test]
    fn a_node_submitted_again_is_listed_once() {
        // What wasm-ld's export wrappers would do: run the constructors again.
        crate::Node::submit(&AGAIN);
        crate::Node::submit(&AGAIN);
        let listed: Vec<u8> = crate::iter::<Again>().take(3).map(|a| a.0).collect();
        assert_eq!(listed, [1]);
    }

    #[test]
    fn model_transforms_and_runtimes_are_dropped() {
        let transforms: Vec<&str> = crate::iter::<ModelTransformFactory>().map(|t| t.0).collect();
        let runtimes: Vec<&str> = crate::iter::<InventorizedRuntime>().map(|r| r.0).collect();
        assert_eq!((transforms, runtimes), (Vec::new(), Vec::new()));
    }
}

//! Word lists the demo workspace draws its names from.

pub const FIRST: &[&str] = &[
    "Anna", "Ben", "Chen", "Dana", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kim", "Lena", "Mateo", "Nadia",
    "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Xenia", "Yusuf", "Zoe", "Li", "Mei",
    "Hannah", "Lucas",
];

pub const LAST: &[&str] = &[
    "Andersen", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Huang", "Ivanova", "Jensen", "Kowalski",
    "Larsen", "Müller", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Wang",
    "Xu", "Yilmaz", "Zhang",
];

pub const ORG_A: &[&str] = &[
    "Blue", "North", "Bright", "Clear", "Swift", "Iron", "Green", "Silver", "Red", "Summit", "Harbor", "Pine", "Atlas",
    "Nova", "Orbit", "Prime", "Quantum", "River", "Stone", "Vector",
];

pub const ORG_B: &[&str] = &[
    "Labs",
    "Logistics",
    "Systems",
    "Health",
    "Foods",
    "Analytics",
    "Robotics",
    "Studio",
    "Capital",
    "Energy",
    "Retail",
    "Works",
    "Cloud",
    "Media",
    "Bio",
];

pub const INDUSTRIES: &[&str] = &[
    "Software",
    "Logistics",
    "Healthcare",
    "Food & beverage",
    "Financial services",
    "Manufacturing",
    "Retail",
    "Energy",
    "Media",
    "Education",
];

pub const COUNTRIES: &[&str] = &["US", "DE", "GB", "FR", "CN", "JP", "NL", "SE", "SG", "BR"];

pub const TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "Head of Sales",
    "VP Operations",
    "Procurement Manager",
    "IT Director",
    "Founder",
    "Marketing Lead",
    "CFO",
    "Product Manager",
];

pub const PRODUCTS: &[&str] = &["Starter plan", "Team plan", "Enterprise plan", "Onboarding package", "Add-on seats"];

pub const CALL_SUBJECTS: &[&str] =
    &["Discovery call", "Follow-up call", "Check in on proposal", "Pricing questions", "Intro call"];

pub const TASK_SUBJECTS: &[&str] =
    &["Send case study", "Prepare demo environment", "Draft proposal", "Confirm budget owner", "Send contract"];

pub const NOTES: &[&str] = &[
    "**Budget** confirmed for Q3; decision by the end of the month.",
    "Champion is the head of sales; the CFO signs anything above 20k.",
    "Asked for a security questionnaire. Sent our standard answers.",
    "Competitor in play: they are also talking to a larger vendor.",
    "Demo went well. Main concern: *migration effort* from spreadsheets.",
    "- needs SSO\n- wants a 2-year contract\n- start date flexible",
];

//! The method catalogue (every method the seeds name, with typical levels and channel) and the
//! stakeholder-group catalogue (Tamworth 6.2, Stevenage, Herefordshire, Oxfordshire 3.5).

use crate::continuum::InvolvementLevel::{self, Collaborate, Consult, Empower, Inform, Involve, Research};
use serde::{Deserialize, Serialize};

/// How a method reaches people. The accessibility checks ask for an offline channel when the
/// audience includes the general public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Web, email, social media.
    Online,
    /// Printed material and paper forms.
    Paper,
    /// Meetings, events, panels in person.
    FaceToFace,
    /// Telephone.
    Phone,
}

impl Channel {
    /// True for every channel but online.
    pub fn is_offline(self) -> bool {
        self != Channel::Online
    }
}

/// A method of engagement from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Method {
    /// API slug, e.g. `focus_group`.
    pub slug: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The levels the method typically sits on (focus groups are research and consult).
    pub typical_levels: &'static [InvolvementLevel],
    /// How it reaches people.
    pub channel: Channel,
}

const fn m(
    slug: &'static str,
    name: &'static str,
    typical_levels: &'static [InvolvementLevel],
    channel: Channel,
) -> Method {
    Method {
        slug,
        name,
        typical_levels,
        channel,
    }
}

use Channel::{FaceToFace, Online, Paper, Phone};

/// Every method the seeds name (Herefordshire App. 2, Oxfordshire 3.2, Stevenage, Staffordshire 4).
pub const METHODS: &[Method] = &[
    m("leaflet", "Leaflets", &[Inform], Paper),
    m("poster", "Posters", &[Inform], Paper),
    m("newsletter", "Newsletters", &[Inform], Paper),
    m("public_notice", "Public notices", &[Inform], Paper),
    m("website", "Website", &[Inform], Online),
    m("social_media", "Social media", &[Inform], Online),
    m("opinion_poll", "Opinion polls", &[Research], FaceToFace),
    m("mystery_shopping", "Mystery shopping", &[Research], FaceToFace),
    m("interview", "One-to-one interviews", &[Research], FaceToFace),
    m("panel_survey", "Citizens' panel surveys", &[Research], FaceToFace),
    m("postal_survey", "Postal surveys", &[Research], Paper),
    m("telephone_survey", "Telephone surveys", &[Research], Phone),
    m("email_survey", "Email surveys", &[Research], Online),
    m("online_survey", "Online surveys", &[Research], Online),
    m("feedback_form", "Feedback forms", &[Research], Paper),
    m("focus_group", "Focus groups", &[Research, Consult], FaceToFace),
    m("community_forum", "Community forums", &[Consult], FaceToFace),
    m("questionnaire", "Questionnaires on a proposal", &[Consult], Paper),
    m(
        "open_space_conference",
        "Open space conferences",
        &[Consult],
        FaceToFace,
    ),
    m("visioning_conference", "Visioning conferences", &[Consult], FaceToFace),
    m("community_workshop", "Community workshops", &[Consult], FaceToFace),
    m("user_panel", "Customer and user panels", &[Consult], FaceToFace),
    m("online_consultation", "Electronic consultation", &[Consult], Online),
    m(
        "online_discussion_forum",
        "Online discussion forums",
        &[Consult],
        Online,
    ),
    m("scrutiny_committee", "Scrutiny committees", &[Consult], FaceToFace),
    m("public_meeting", "Public meetings", &[Consult], FaceToFace),
    m("exhibition", "Exhibitions and open days", &[Consult], FaceToFace),
    m(
        "neighbourhood_panel",
        "Neighbourhood and parish panels",
        &[Involve],
        FaceToFace,
    ),
    m("local_area_meeting", "Local area meetings", &[Involve], FaceToFace),
    m("advocacy_group", "Advocacy groups", &[Involve], FaceToFace),
    m("monitoring_group", "Monitoring groups", &[Involve], FaceToFace),
    m("involvement_network", "Involvement networks", &[Involve], FaceToFace),
    m(
        "participatory_budgeting",
        "Participatory budgeting",
        &[Collaborate],
        FaceToFace,
    ),
    m(
        "community_led_planning",
        "Community-led planning",
        &[Collaborate],
        FaceToFace,
    ),
    m("co_design_workshop", "Co-design workshops", &[Collaborate], FaceToFace),
    m(
        "management_board",
        "Management committees and boards with public members",
        &[Empower],
        FaceToFace,
    ),
    m("community_grant", "Community grants", &[Empower], FaceToFace),
];

/// Looks a method up by slug.
///
/// ```
/// use consult_core::{method, Channel, InvolvementLevel};
/// let focus = method("focus_group").unwrap();
/// assert_eq!(focus.channel, Channel::FaceToFace);
/// assert!(focus.typical_levels.contains(&InvolvementLevel::Consult));
/// assert!(method("seance").is_none());
/// ```
pub fn method(slug: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.slug == slug)
}

/// A stakeholder group from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StakeholderGroup {
    /// API slug, e.g. `tenants`.
    pub slug: &'static str,
    /// Display name.
    pub name: &'static str,
    /// True for groups that stand for the general public (residents, council tax payers, non-users):
    /// activities aimed at them need an offline channel.
    pub general_public: bool,
}

const fn g(slug: &'static str, name: &'static str, general_public: bool) -> StakeholderGroup {
    StakeholderGroup {
        slug,
        name,
        general_public,
    }
}

/// Stakeholder groups named by the seeds (T 6.2, S "Who is this strategy for", H, O 3.5).
pub const STAKEHOLDER_GROUPS: &[StakeholderGroup] = &[
    g("residents", "Residents", true),
    g("council_tax_payers", "Council tax payers", true),
    g("service_users", "Service users", false),
    g("non_users", "Non-users of services", true),
    g("businesses", "Businesses", false),
    g("voluntary_and_community", "Voluntary and community sector", false),
    g("partners", "Partner organisations", false),
    g("community_groups", "Community groups", false),
    g("tenants", "Tenants", false),
    g("interest_forums", "Interest forums", false),
    g("councillors", "Councillors", false),
    g("staff", "Staff", false),
    g("contractors", "Contractors", false),
    g("children_and_young_people", "Children and young people", false),
    g("older_people", "Older people", false),
    g("carers", "Carers", false),
    g("disabled_people", "Disabled people", false),
    g("ethnic_minority_communities", "Ethnic minority communities", false),
    g("lgbt_communities", "LGBT communities", false),
    g("faith_groups", "Faith groups", false),
];

/// Looks a stakeholder group up by slug.
pub fn stakeholder_group(slug: &str) -> Option<&'static StakeholderGroup> {
    STAKEHOLDER_GROUPS.iter().find(|g| g.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn slugs_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        for slug in METHODS
            .iter()
            .map(|m| m.slug)
            .chain(STAKEHOLDER_GROUPS.iter().map(|g| g.slug))
        {
            assert!(seen.insert(slug), "duplicate slug {slug}");
            assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{slug}");
        }
    }

    #[test]
    fn every_level_has_a_method() {
        for level in InvolvementLevel::ALL {
            assert!(METHODS.iter().any(|m| m.typical_levels.contains(&level)), "{level}");
        }
    }

    #[test]
    fn channels_follow_the_api_contract() {
        let online: Vec<_> = METHODS.iter().filter(|m| m.channel == Online).map(|m| m.slug).collect();
        assert_eq!(
            online,
            [
                "website",
                "social_media",
                "email_survey",
                "online_survey",
                "online_consultation",
                "online_discussion_forum"
            ]
        );
        assert_eq!(method("telephone_survey").map(|m| m.channel), Some(Phone));
        assert_eq!(method("questionnaire").map(|m| m.channel), Some(Paper));
    }
}

//! Recognising other CRMs' exports: which profile a header fits, and that
//! the proposal reads formats and stages from the file.

use super::*;
use crate::import::csv;

fn table(text: &str) -> Table {
    csv::parse(text).expect("csv")
}

#[test]
fn a_hubspot_deals_export_gets_its_stages_status_and_date_format() {
    let t = table(
        "Record ID,Deal Name,Deal Stage,Pipeline,Amount,Close Date,Create Date,Deal owner\n\
         1,A,Contract Sent,Sales Pipeline,10,2027-03-01 00:00,2026-10-10 10:10,Ada\n\
         2,B,Appointment Scheduled,Sales Pipeline,20,2027-01-15 00:00,2026-09-01 09:00,Ada\n\
         3,C,Closed won,Sales Pipeline,30,2026-11-02 12:00,2026-08-20 15:30,Ada\n",
    );
    let p = propose(Target::Deals, &t).expect("recognised");
    assert_eq!(p.crm, Crm::HubSpot);
    let j = &p.json;
    assert_eq!(j["source"], "hubspot");
    assert_eq!(j["external_id"], "Record ID");
    assert_eq!(j["pipeline"]["name"], "Sales Pipeline");
    // In HubSpot's own order, not the file's; the closed stage is no stage.
    assert_eq!(j["pipeline"]["stages"], json!(["Appointment Scheduled", "Contract Sent"]));
    assert_eq!(j["fields"]["stage"]["map"]["Closed won"], "Contract Sent");
    assert_eq!(j["fields"]["status"]["map"]["Closed won"], "won");
    assert_eq!(j["fields"]["status"]["map"]["Contract Sent"], "open");
    assert_eq!(j["fields"]["close_date"]["format"], "%Y-%m-%d %H:%M");
    assert_eq!(j["fields"]["owner"]["lookup"], "name");
    assert!(j["fields"].get("organization").is_none(), "no column, no field");
    assert!(p.notes.is_empty(), "{:?}", p.notes);
}

#[test]
fn pipedrive_close_times_fall_back_from_won_to_lost() {
    let t = table(
        "Deal - ID,Deal - Title,Deal - Stage,Deal - Status,Deal - Won time,Deal - Lost time\n\
         1,A,Qualified,Won,2026-11-20 16:45:10,\n\
         2,B,Qualified,Lost,,2026-10-02 10:00:00\n",
    );
    let p = propose(Target::Deals, &t).expect("recognised");
    assert_eq!(p.crm, Crm::Pipedrive);
    let closed = &p.json["fields"]["closed_at"];
    assert_eq!(closed["column"], "Deal - Won time");
    assert_eq!(closed["or"]["column"], "Deal - Lost time");
    assert_eq!(closed["or"]["format"], "%Y-%m-%d %H:%M:%S");
    assert!(p.json["fields"]["status"].get("map").is_none(), "Pipedrive has a status column");
}

#[test]
fn salesforce_us_dates_are_recognised_and_unknown_ones_left_out_with_a_note() {
    let t = table(
        "Opportunity ID,Opportunity Name,Stage,Close Date,Created Date\n\
         1,A,Prospecting,3/31/2027,sometime\n\
         2,B,Closed Lost,10/30/2026,later\n",
    );
    let p = propose(Target::Deals, &t).expect("recognised");
    assert_eq!(p.crm, Crm::Salesforce);
    assert_eq!(p.json["fields"]["close_date"]["format"], "%m/%d/%Y");
    assert!(p.json["fields"].get("created_at").is_none());
    assert!(p.notes.iter().any(|n| n.contains("Created Date")), "{:?}", p.notes);
}

#[test]
fn people_and_companies_of_each_crm_are_told_apart() {
    let cases = [
        ("Person - ID,Person - Name,Person - Email\n1,A,a@x.example\n", Target::People, Crm::Pipedrive),
        ("Record ID,First Name,Last Name,Email\n1,A,B,a@x.example\n", Target::People, Crm::HubSpot),
        ("Contact ID,First Name,Last Name,Account Name\n1,A,B,X\n", Target::People, Crm::Salesforce),
        ("Organization - ID,Organization - Name\n1,X\n", Target::Organizations, Crm::Pipedrive),
        ("Record ID,Company name,Company Domain Name\n1,X,x.example\n", Target::Organizations, Crm::HubSpot),
        ("Account ID,Account Name,Account Owner\n1,X,Ada\n", Target::Organizations, Crm::Salesforce),
    ];
    for (csv, entity, crm) in cases {
        let p = propose(entity, &table(csv)).unwrap_or_else(|| panic!("not recognised: {csv}"));
        assert_eq!(p.crm, crm, "{csv}");
        assert!(p.json["fields"].get("name").is_some(), "{csv}");
    }
    let hs = propose(Target::People, &table(cases[1].0)).expect("hubspot");
    assert_eq!(hs.json["fields"]["name"]["template"], "{First Name} {Last Name}");
}

#[test]
fn an_unknown_header_or_the_wrong_entity_is_no_proposal() {
    assert!(propose(Target::Deals, &table("title,value\nA,1\n")).is_none());
    assert!(propose(Target::People, &table("Deal - Title,Deal - Stage\nA,Won\n")).is_none());
}

//! The `st` rule: letters and marks only; then a US state or territory name becomes its 2-letter
//! code when the country is `us` or unknown, and a Canadian province or territory name (English
//! or French) becomes its code when the country is `ca`. Any other value is sent as it is left
//! by the letters-and-marks filter (`Île-de-France` + fr → `îledefrance`).
//!
//! Names are compared on their letters with accents ignored (`Québec`, `Quebec`), so the tables
//! below hold folded keys. The tables are short and fixed by the specification: the 50 states,
//! DC and the territories as, gu, mp, pr, um, vi (the US subdivisions of ISO 3166-2, as named by
//! pycountry, plus the usual short forms), and Canada's 10 provinces and 3 territories.

use super::text::fold_accents;

/// US states, DC and territories: folded name -> code, sorted by name for binary search.
static US: &[(&str, &str)] = &[
    ("alabama", "al"),
    ("alaska", "ak"),
    ("americansamoa", "as"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("districtofcolumbia", "dc"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("guam", "gu"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("newhampshire", "nh"),
    ("newjersey", "nj"),
    ("newmexico", "nm"),
    ("newyork", "ny"),
    ("northcarolina", "nc"),
    ("northdakota", "nd"),
    ("northernmarianaislands", "mp"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("puertorico", "pr"),
    ("rhodeisland", "ri"),
    ("southcarolina", "sc"),
    ("southdakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("unitedstatesminoroutlyingislands", "um"),
    ("unitedstatesvirginislands", "vi"),
    ("usminoroutlyingislands", "um"),
    ("usvirginislands", "vi"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("virginislandsus", "vi"),
    ("washington", "wa"),
    ("westvirginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
];

/// Canadian provinces and territories, English and French names (folded) -> code, sorted.
static CA: &[(&str, &str)] = &[
    ("alberta", "ab"),
    ("britishcolumbia", "bc"),
    ("colombiebritannique", "bc"),
    ("ileduprinceedouard", "pe"),
    ("manitoba", "mb"),
    ("newbrunswick", "nb"),
    ("newfoundlandandlabrador", "nl"),
    ("northwestterritories", "nt"),
    ("nouveaubrunswick", "nb"),
    ("nouvelleecosse", "ns"),
    ("novascotia", "ns"),
    ("nunavut", "nu"),
    ("ontario", "on"),
    ("princeedwardisland", "pe"),
    ("quebec", "qc"),
    ("saskatchewan", "sk"),
    ("terreneuveetlabrador", "nl"),
    ("territoiresdunordouest", "nt"),
    ("yukon", "yt"),
];

/// Which name table applies for a context country (lower-case alpha-2, `None` when unknown).
fn table_for(country: Option<&str>) -> Option<&'static [(&'static str, &'static str)]> {
    match country {
        None | Some("us") => Some(US),
        Some("ca") => Some(CA),
        Some(_) => None,
    }
}

/// Maps a letters-and-marks state value to its code when the country's table names it; returns
/// the value unchanged otherwise.
pub(super) fn state_code(letters: String, country: Option<&str>) -> String {
    let Some(table) = table_for(country) else {
        return letters;
    };
    let key = fold_accents(&letters);
    match table.binary_search_by(|(name, _)| (*name).cmp(key.as_str())) {
        Ok(i) => table.get(i).map_or(letters, |(_, code)| (*code).to_owned()),
        Err(_) => letters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(letters: &str, country: Option<&str>) -> String {
        state_code(letters.to_owned(), country)
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for table in [US, CA] {
            assert!(
                table.windows(2).all(|w| w[0].0 < w[1].0),
                "table not sorted"
            );
        }
    }

    #[test]
    fn us_table_holds_fifty_states_dc_and_six_territories() {
        let mut codes: Vec<&str> = US.iter().map(|(_, code)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 57);
        let mut codes: Vec<&str> = CA.iter().map(|(_, code)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 13);
    }

    #[test]
    fn us_names_become_codes_when_the_country_is_us_or_unknown() {
        assert_eq!(st("california", Some("us")), "ca");
        assert_eq!(st("northdakota", None), "nd");
        assert_eq!(st("ny", Some("us")), "ny");
        assert_eq!(st("puertorico", None), "pr");
    }

    #[test]
    fn canadian_names_become_codes_only_when_the_country_is_ca() {
        assert_eq!(st("britishcolumbia", Some("ca")), "bc");
        assert_eq!(st("québec", Some("ca")), "qc");
        assert_eq!(st("quebec", Some("ca")), "qc");
        assert_eq!(st("îleduprinceédouard", Some("ca")), "pe");
        assert_eq!(st("ontario", None), "ontario");
        assert_eq!(st("california", Some("ca")), "california");
    }

    #[test]
    fn other_countries_keep_the_letters() {
        assert_eq!(st("îledefrance", Some("fr")), "îledefrance");
        assert_eq!(st("texas", Some("mx")), "texas");
    }
}
